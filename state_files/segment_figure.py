"""Before/after figure of the segmentation: a slice of the greyscale phantom, its labels, and
the truth (matplotlib; run by bin/main in the pip runtime).

usage: python state_files/segment_figure.py IMAGE.nc LABELS.nc OUT.png
"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402

from electrovox.io import read_volume  # noqa: E402

image_path, labels_path, out = sys.argv[1:4]
img = read_volume(image_path, variable="image", labels=False)
seg = read_volume(labels_path)
truth = read_volume(image_path, variable="truth", labels=True)
k = img.shape[1] // 2                                   # a y-z cut: the slice axis (z) is vertical
cmap = ListedColormap(["#1f1f3a", "#e0a030", "#9bbbd4", "#d62728"])
fig, ax = plt.subplots(1, 3, figsize=(13, 4.6), constrained_layout=True)
ext = [0, img.shape[2] * img.spacing[2], 0, img.shape[0] * img.spacing[0]]
ax[0].imshow(img.array[:, k, :], cmap="gray", origin="lower", extent=ext, aspect="equal")
ax[0].set_title("PFIB-SEM phantom\n(SNR 8, pore-back, curtaining, drift)")  # 2 lines: not cut
for a, vol, title in ((ax[1], seg, "electrovox segment"), (ax[2], truth, "truth")):
    a.imshow(vol.array[:, k, :], cmap=cmap, vmin=-0.5, vmax=3.5, origin="lower", extent=ext,
             interpolation="nearest", aspect="equal")
    a.set_title(title)
for a in ax:
    a.set_xlabel("x (um)")
ax[0].set_ylabel("z (um, slice axis)")
handles = [plt.Rectangle((0, 0), 1, 1, color=cmap(i)) for i in range(4)]
# the legend outside the axes, right of the truth panel: constrained layout makes room for it
# (a figure legend at the bottom overlapped the x labels); bbox_inches="tight" keeps all text in
ax[2].legend(handles, ["pore", "CBD", "active material", "crack"], loc="upper left",
             bbox_to_anchor=(1.03, 1.0), borderaxespad=0.0)
fig.savefig(out + ".tmp.png", dpi=90, bbox_inches="tight", pad_inches=0.1)
import os  # noqa: E402

os.replace(out + ".tmp.png", out)
print(f"wrote {out}")
