"""Images made with Pillow for the upload tests: real files of each type, and
the hostile ones an attacker would send instead."""

import io
import struct
import zlib

from PIL import Image

# A colour far from grey, so a re-encoded copy can be told from a blank one.
COLOUR = (200, 40, 90)


def picture(fmt: str, *, width: int = 320, height: int = 240, colour=COLOUR, **save_options) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format=fmt, **save_options)
    return out.getvalue()


def jpeg(**kwargs) -> bytes:
    return picture("JPEG", **kwargs)


def png(**kwargs) -> bytes:
    return picture("PNG", **kwargs)


def webp(**kwargs) -> bytes:
    return picture("WEBP", **kwargs)


def gif(**kwargs) -> bytes:
    return picture("GIF", **kwargs)


def bmp(**kwargs) -> bytes:
    return picture("BMP", **kwargs)


def jpeg_with_gps_exif() -> bytes:
    """A photo the way a phone writes it: camera make, a comment, and where it was taken."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x010E] = "secret-description"  # ImageDescription
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"  # GPSLatitudeRef
    gps[2] = (52.0, 31.0, 12.0)  # GPSLatitude
    gps[3] = "E"  # GPSLongitudeRef
    gps[4] = (13.0, 24.0, 36.0)  # GPSLongitude
    return jpeg(exif=exif)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_bomb(side: int = 20_000) -> bytes:
    """A PNG of side×side pixels (1-bit grey, all black) whose compressed
    pixels fit in a few dozen kilobytes: decoded it would be gigabytes of RGB."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    pixels = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", pixels) + png_chunk(b"IEND", b"")


def zip_archive() -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.html", "<script>alert('zip-polyglot')</script>")
    return out.getvalue()


SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240">'
    b'<rect width="320" height="240" fill="red"/><script>alert(1)</script></svg>'
)
HTML_TAIL = b"<html><body><script>alert('html-polyglot')</script></body></html>"
