import pyarrow as pa

_Part = tuple[pa.Buffer, pa.Buffer | None, int, int, pa.Buffer]

def pack(
    parts: tuple[_Part, ...], rows: int, known: pa.Buffer | bytes
) -> tuple[bytes, bytes, bytes]: ...
