"""The reference study reproduced: every figure's data from the project's own cores."""
