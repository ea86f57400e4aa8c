import pyarrow as pa

def extract(
    block: bytes | bytearray | pa.Buffer,
    paths: tuple[tuple[bytes, ...], ...],
    text: int,
    want: tuple[bool | list[bytes], ...],
) -> tuple[bytes, bytes, list[tuple[bytes, bytes | None, bytes | None]], bytes | None]: ...
