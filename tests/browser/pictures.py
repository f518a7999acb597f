"""Real, small images made by the tests themselves (no Pillow needed): a PNG and a JPEG a browser can show."""

from __future__ import annotations

import base64
import struct
import zlib


def png(width: int = 64, height: int = 48, rgb: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    """A PNG of one colour with a darker diagonal, so a thumbnail shows something."""
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter: none
        for x in range(width):
            row += bytes((c // 2 for c in rgb)) if abs(x * height - y * width) < width * 2 else bytes(rgb)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows)))
            + chunk(b"IEND", b""))


# a complete 1x1 JPEG (baseline, grey), as cameras' files start: FF D8 FF
TINY_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////"
    "////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQAB"
    "PxA=")
