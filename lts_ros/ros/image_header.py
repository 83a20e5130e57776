"""The size a PNG or JPEG declares in its header, read without decoding, so that a compressed frame claiming
too many pixels (a decompression bomb) is refused before a decoder allocates for it."""
from __future__ import annotations

import struct

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SOI = b"\xff\xd8"
# Start-of-frame markers (they carry the size); C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not.
JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})  # TEM, RST0-7, SOI: no length field follows
JPEG_SOS, JPEG_EOI = 0xDA, 0xD9  # past these, no frame header can come first


def declared_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR or a JPEG's first SOFn segment; None for another format or a header
    too short or malformed to read (the decoder then decides)."""
    if data.startswith(PNG_SIGNATURE):
        return _png_size(data)
    if data.startswith(JPEG_SOI):
        return _jpeg_size(data)
    return None


def _png_size(data: bytes) -> tuple[int, int] | None:
    # signature (8 bytes), IHDR chunk length (4) and type (4), then width and height as big-endian uint32
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    pos = len(JPEG_SOI)
    while pos < len(data) and data[pos] == 0xFF:
        while pos < len(data) and data[pos] == 0xFF:  # a marker's 0xFF, and any fill bytes before its code
            pos += 1
        if pos >= len(data):
            return None
        marker = data[pos]
        pos += 1
        if marker in JPEG_STANDALONE:
            continue
        if marker in (JPEG_SOS, JPEG_EOI) or pos + 2 > len(data):
            return None
        length = struct.unpack(">H", data[pos:pos + 2])[0]  # counts its own 2 bytes, not the marker's
        if marker in JPEG_SOF:
            if length < 7 or pos + 7 > len(data):
                return None
            height, width = struct.unpack(">HH", data[pos + 3:pos + 7])  # after the sample precision byte
            return width, height
        if length < 2:
            return None
        pos += length
    return None  # truncated, or not a marker where one must be
