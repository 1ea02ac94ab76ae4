# shellcheck shell=bash
# Environment of ElectroVox's ParaView runtime.  Sourced (not run) by bin/electrovox-paraview,
# bin/electrovox-pvbatch, bin/electrovox-pvpython and bin/setup-paraview.
#
# Sets: PYTHONPATH  = .pvshim (sitecustomize: getargspec shim) : checkout root : .venv-pv site-packages
#       PV_PLUGIN_PATH = filters/pvplugin (ParaView loads every .py there: only ElectroVox.py lives there;
#                        not with EVX_NO_PLUGIN_AUTOLOAD=1)
# Defines: evx_require_runtime PROGRAM   exits 3 with "run bin/setup-paraview first" when missing
#          evx_with_x COMMAND...         runs COMMAND, under xvfb-run when there is no $DISPLAY
#                                        (retried once when the X server fails to start)

EVX_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EVX_VENV=$EVX_ROOT/.venv-pv
EVX_SHIM=$EVX_ROOT/.pvshim
EVX_PLUGIN_DIR=$EVX_ROOT/filters/pvplugin
EVX_XVFB_SCREEN=${EVX_XVFB_SCREEN:-"-screen 0 1400x900x24"}

EVX_PV_SITE=
if [ -r "$EVX_SHIM/pvenv.conf" ]; then
    # shellcheck disable=SC1091
    . "$EVX_SHIM/pvenv.conf"
fi
if [ -z "$EVX_PV_SITE" ] || [ ! -d "$EVX_PV_SITE" ]; then
    for _evx_d in "$EVX_VENV"/lib/python3*/site-packages; do
        [ -d "$_evx_d" ] && EVX_PV_SITE=$_evx_d
    done
    unset _evx_d
fi

# ParaView's Python is Debian's /usr/bin/python3: never point it at another Python's home.
unset PYTHONHOME
export PYTHONPATH="$EVX_SHIM:$EVX_ROOT${EVX_PV_SITE:+:$EVX_PV_SITE}${PYTHONPATH:+:$PYTHONPATH}"
# EVX_NO_PLUGIN_AUTOLOAD=1: leave the plugin out of PV_PLUGIN_PATH (scripts then LoadPlugin it)
if [ "${EVX_NO_PLUGIN_AUTOLOAD:-0}" != 1 ]; then
    export PV_PLUGIN_PATH="$EVX_PLUGIN_DIR${PV_PLUGIN_PATH:+:$PV_PLUGIN_PATH}"
fi
export EVX_ROOT EVX_VENV EVX_PLUGIN_DIR

evx_require_runtime() {
    local prog=${1:-}
    local problem=
    if [ ! -x "$EVX_VENV/bin/python" ] || [ ! -f "$EVX_VENV/.electrovox-setup-stamp" ]; then
        problem="the ParaView runtime $EVX_VENV is missing or incomplete"
    elif [ ! -f "$EVX_SHIM/sitecustomize.py" ]; then
        problem="$EVX_SHIM/sitecustomize.py is missing"
    elif [ -n "$prog" ] && ! command -v "$prog" >/dev/null 2>&1; then
        problem="'$prog' is not installed (Debian package paraview)"
    fi
    if [ -n "$problem" ]; then
        echo "electrovox: $problem: run bin/setup-paraview first (as root: sudo $EVX_ROOT/bin/setup-paraview)" >&2
        exit 3
    fi
}

# Run "$@" with an X server: the current $DISPLAY, else a fresh Xvfb through xvfb-run.
evx_with_x() {
    if [ -n "${DISPLAY:-}" ]; then
        "$@"
        return
    fi
    if ! command -v xvfb-run >/dev/null 2>&1; then
        echo "electrovox: no \$DISPLAY and xvfb-run is not installed: run bin/setup-paraview first" >&2
        return 3
    fi
    local errf rc attempt n start
    errf=$(mktemp "${TMPDIR:-/tmp}/evx-xvfb.XXXXXX")
    start=99
    for attempt in 1 2 3; do
        : > "$errf"
        # a display number with neither a lock file nor a socket (xvfb-run -a looks at the lock
        # only, and a stale socket makes the server fail); the retry takes another number
        n=$start
        while [ -e "/tmp/.X$n-lock" ] || [ -e "/tmp/.X11-unix/X$n" ]; do n=$((n + 1)); done
        start=$((n + 1 + RANDOM % 50))
        xvfb-run -n "$n" -s "$EVX_XVFB_SCREEN" "$@" 2> >(tee -a "$errf" >&2)
        rc=$?
        wait  # let tee finish
        # a server that did not come up, or was lost (seen twice in a row once, 2026-12-07, on
        # a loaded machine): up to three tries, each on another display number
        if [ "$rc" -ne 0 ] && [ "$attempt" -lt 3 ] \
            && grep -qE 'Xvfb failed to start|bad X server connection|cannot open display' "$errf"; then
            echo "electrovox: the X server (Xvfb) failed to start or was lost; retrying ($attempt of 2)" >&2
            sleep $((attempt * 2))
            continue
        fi
        break
    done
    rm -f "$errf"
    return "$rc"
}
