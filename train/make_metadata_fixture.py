"""Writes test/fixtures/metadata/: images whose ICC profile and EXIF were written by an independent writer (PIL),
and what aara must read from them (test/metadata.test.ts):

  icc-exif.png        24×16 RGB, an sRGB ICC profile (iCCP chunk) and EXIF (eXIf chunk) with orientation 1
  icc-exif-turn6.jpg  stored 16×24 with EXIF orientation 6 (shown 24×16), and a 70,000-byte profile that JPEG
                      must split over two APP2 ICC_PROFILE segments (an sRGB profile padded: the bytes matter,
                      not their meaning)
  expected.json       the profiles (base64) and EXIF as aara must give them back: the JPEG's EXIF with its
                      orientation set to 1, since aara stores the image upright

Run from the repository root:  /usr/bin/python3 train/make_metadata_fixture.py
"""
import base64
import json
import os

import numpy as np
from PIL import Image, ImageCms

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "metadata")
ORIENTATION = 0x0112


def exif_bytes(orientation):
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "aara test camera"  # Make: a second tag, so the structure is not only the orientation
    return exif.tobytes()  # "Exif\0\0" + TIFF for JPEG; PIL strips the prefix for PNG's eXIf


def main():
    os.makedirs(OUT, exist_ok=True)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    big = srgb + bytes(range(256)) * ((70000 - len(srgb)) // 256 + 1)
    big = big[:70000]
    yy, xx = np.mgrid[0:16, 0:24]
    pixels = np.stack([xx * 10, yy * 15, (xx + yy) * 6], -1).astype(np.uint8)
    Image.fromarray(pixels).save(os.path.join(OUT, "icc-exif.png"), icc_profile=srgb, exif=exif_bytes(1))
    stored = np.ascontiguousarray(np.rot90(pixels, 1))  # turned 90° counter-clockwise: orientation 6 turns it back
    Image.fromarray(stored).save(os.path.join(OUT, "icc-exif-turn6.jpg"), quality=95, icc_profile=big, exif=exif_bytes(6))
    tiff = lambda orientation: exif_bytes(orientation)[6:]  # noqa: E731
    expected = {
        "icc-exif.png": dict(icc=base64.b64encode(srgb).decode(), exif=base64.b64encode(tiff(1)).decode(), width=24, height=16),
        "icc-exif-turn6.jpg": dict(icc=base64.b64encode(big).decode(), exif=base64.b64encode(tiff(1)).decode(),
                                   storedExif=base64.b64encode(tiff(6)).decode(), width=24, height=16),
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
