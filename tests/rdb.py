"""Write an RDB file by hand, in the format version that Redis 6.2 reads.

Redis 7 saves RDB version 10, which Redis 6.2 refuses; version 9 loads in
both. The file is small enough to spell out: header, database selector,
string entries, end marker and the CRC-64 checksum Redis verifies on load.
"""
RDB_VERSION = 9
_OPCODE_SELECTDB = 0xFE
_OPCODE_RESIZEDB = 0xFB
_OPCODE_EOF = 0xFF
_TYPE_STRING = 0x00
_CRC64_JONES_REFLECTED = 0x95AC9329AC4BC9B5


def crc64(data: bytes) -> int:
    """Return the CRC-64 (Jones polynomial, reflected) that Redis uses."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (_CRC64_JONES_REFLECTED if crc & 1 else 0)
    return crc


def _length(value: int) -> bytes:
    """Encode a length below 64 in RDB's one-byte form."""
    if not 0 <= value < 64:
        raise ValueError("this writer only encodes lengths below 64")
    return bytes([value])


def _string(text: str) -> bytes:
    """Encode a short string as length-prefixed bytes."""
    data = text.encode()
    return _length(len(data)) + data


def make_rdb(strings: dict[str, str]) -> bytes:
    """Return an RDB v9 file whose database 0 holds STRINGS as string keys."""
    body = f"REDIS{RDB_VERSION:04d}".encode()
    body += bytes([_OPCODE_SELECTDB]) + _length(0)
    body += bytes([_OPCODE_RESIZEDB]) + _length(len(strings)) + _length(0)
    for key, value in strings.items():
        body += bytes([_TYPE_STRING]) + _string(key) + _string(value)
    body += bytes([_OPCODE_EOF])
    return body + crc64(body).to_bytes(8, "little")
