"""OpenCV's ORB on the same photos as `extract_peer`, with the same work and settings.

For each image: decode once, then `--runs` times on one thread: grey conversion, area
resampling so the longer side is 1,024 px (enlarged at most 2x), and
`ORB.detectAndCompute` with 4,000 features, 8 levels, scale factor 1.25 and FAST
threshold 20 (shopshield's `ExtractOptions::QUERY`). Prints the same tab-separated
columns as `extract_peer`: path, width, height, keypoints, mean CPU ms (the thread's own,
`time.thread_time`, over all runs divided by the runs).
"""

import sys
import time

import cv2

cv2.setNumThreads(1)


def main() -> int:
    args = sys.argv[1:]
    runs = 30
    if args[:1] == ["--runs"]:
        runs = int(args[1])
        args = args[2:]
    orb = cv2.ORB_create(nfeatures=4000, scaleFactor=1.25, nlevels=8, fastThreshold=20)
    for path in args:
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if img is None:
            print(f"{path}: cannot decode", file=sys.stderr)
            return 2
        h, w = img.shape[:2]
        scale = min(1024 / max(w, h), 2.0)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        keypoints = 0
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        t0 = time.thread_time()
        for _ in range(runs):
            gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
            gray = cv2.resize(gray, size, interpolation=interp)
            kps, _desc = orb.detectAndCompute(gray, None)
            keypoints = len(kps)
        mean = (time.thread_time() - t0) * 1000 / runs
        print(f"{path}\t{w}\t{h}\t{keypoints}\t{mean:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
