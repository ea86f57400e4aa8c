import pyarrow as pa

def extract(
    block: bytes | bytearray | pa.Buffer,
    paths: tuple[tuple[bytes, ...], ...],
    text: int,
    want: tuple[bool | list[bytes], ...],
) -> tuple[bytes, bytes, list[tuple[bytes, bytes | None, bytes | None]], bytes | None]: ...
def splice(
    line_offsets: pa.Buffer,
    line_data: pa.Buffer,
    first: int,
    rows: pa.Buffer,
    codes: pa.Buffer,
    numbers: pa.Buffer,
    head_offsets: pa.Buffer,
    head_data: pa.Buffer,
    tail_offsets: pa.Buffer,
    tail_data: pa.Buffer,
) -> bytes: ...
