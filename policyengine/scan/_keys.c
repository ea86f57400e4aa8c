/* Packed provenance keys: each record's key from the value ids of its columns, and the key's id
 * among the keys numbered so far, in one pass over the records.
 *
 * Arrow would take the same steps as a dozen passes (a take through each column's ids, a multiply
 * and an add per column, a hash lookup), each reading and writing every record again.
 *
 * pack(parts, rows, known) -> (codes, new, counts)
 *   parts  tuple of (indices, validity, offset, width, table), one per column:
 *            indices   buffer: each row's index into table (int32 when width is 4, int64 when 8)
 *            validity  buffer, a bitmap (None: every row is valid); a null row adds 0
 *            offset    rows to skip at the start of indices and validity (an Arrow slice's offset)
 *            table     buffer, int64 per index: the value's id, already shifted into its bits
 *   rows   the number of rows
 *   known  buffer, int64: the keys numbered so far (key i has id i)
 * returns
 *   codes  bytes, int64 per row: the id of its key, the sum of its columns' entries; a key not
 *          known gets the next id (len(known), then len(known) + 1, ...) in order of first sight
 *   new    bytes, int64: the keys not known, in the order of their ids
 *   counts bytes, int64 per id (known and new): the rows that have it
 * Raises ValueError for an index outside its table.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARTS 16

typedef struct {
    const unsigned char *indices, *validity;
    Py_ssize_t offset, width, size;
    const int64_t *table;
} Part;

typedef struct { /* open addressing over int64 keys; a slot holds its key's id + 1, 0 if empty */
    int64_t *keys;
    int64_t *rows; /* per key: the rows counted with it */
    int64_t *slots;
    size_t mask;
    Py_ssize_t count, capacity; /* keys held, room in keys */
} Map;

static inline size_t slot_of(const Map *m, int64_t key) {
    uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15ULL;
    h ^= h >> 29;
    return (size_t)h & m->mask;
}

static int map_init(Map *m, Py_ssize_t expected) {
    size_t capacity = 64;
    while (capacity < 2 * (size_t)expected) capacity *= 2;
    m->slots = calloc(capacity, sizeof(int64_t));
    m->capacity = (Py_ssize_t)(capacity / 2);
    m->keys = malloc(sizeof(int64_t) * (size_t)m->capacity);
    m->rows = calloc((size_t)m->capacity, sizeof(int64_t));
    m->mask = capacity - 1;
    m->count = 0;
    return m->slots && m->keys && m->rows ? 0 : -1;
}

static void map_free(Map *m) {
    free(m->slots);
    free(m->keys);
    free(m->rows);
}

/* Room for one more key at a load of at most one half. */
static int map_grow(Map *m) {
    size_t capacity = 2 * (m->mask + 1);
    int64_t *slots = calloc(capacity, sizeof(int64_t));
    int64_t *keys = realloc(m->keys, sizeof(int64_t) * capacity / 2);
    if (keys) m->keys = keys;
    int64_t *rows = keys ? realloc(m->rows, sizeof(int64_t) * capacity / 2) : NULL;
    if (rows) {
        m->rows = rows;
        memset(rows + m->capacity, 0, sizeof(int64_t) * (capacity / 2 - (size_t)m->capacity));
    }
    if (!slots || !keys || !rows) {
        free(slots);
        return -1;
    }
    free(m->slots);
    m->slots = slots;
    m->mask = capacity - 1;
    m->capacity = (Py_ssize_t)(capacity / 2);
    for (Py_ssize_t i = 0; i < m->count; i++) {
        size_t at = slot_of(m, keys[i]);
        while (slots[at]) at = (at + 1) & m->mask;
        slots[at] = i + 1;
    }
    return 0;
}

/* The id of ``key``, numbered next if it is new; -1 when out of memory. */
static int64_t map_id(Map *m, int64_t key) {
    size_t at = slot_of(m, key);
    for (;; at = (at + 1) & m->mask) {
        int64_t found = m->slots[at];
        if (!found) break;
        if (m->keys[found - 1] == key) return found - 1;
    }
    if (m->count == m->capacity) {
        if (map_grow(m) < 0) return -1;
        at = slot_of(m, key);
        while (m->slots[at]) at = (at + 1) & m->mask;
    }
    m->keys[m->count] = key;
    m->slots[at] = ++m->count;
    return m->count - 1;
}

/* Add column ``p``'s entry to each row's key: a null row adds 0. Column by column, each loop a
 * gather the compiler can keep branch-free. */
static int add_column(const Part *p, Py_ssize_t rows, int64_t *keys) {
    const int64_t *table = p->table;
    int64_t size = p->size;
    for (Py_ssize_t row = 0; row < rows; row++) {
        Py_ssize_t at = row + p->offset;
        int64_t index = p->width == 4 ? ((const int32_t *)p->indices)[at]
                                      : ((const int64_t *)p->indices)[at];
        int valid = !p->validity || (p->validity[at >> 3] >> (at & 7) & 1);
        if (!valid) continue;
        if ((uint64_t)index >= (uint64_t)size) return -2;
        keys[row] += table[index];
    }
    return 0;
}

/* Each row's code (without the GIL): -1 out of memory, -2 an index outside its table. */
static int codes_of(const Part *parts, int count, Py_ssize_t rows, Map *map, int64_t *codes) {
    memset(codes, 0, sizeof(int64_t) * (size_t)rows);
    for (int c = 0; c < count; c++)
        if (add_column(&parts[c], rows, codes) < 0) return -2;
    int64_t last_key = 0, last_id = -1;
    for (Py_ssize_t row = 0; row < rows; row++) {
        int64_t key = codes[row];
        if (key != last_key || last_id < 0) { /* runs of one tuple are common in sorted shards */
            last_id = map_id(map, key);
            if (last_id < 0) return -1;
            last_key = key;
        }
        codes[row] = last_id;
        map->rows[last_id]++;
    }
    return 0;
}

static PyObject *pack(PyObject *module, PyObject *args) {
    PyObject *parts_arg;
    Py_ssize_t rows;
    Py_buffer known;
    if (!PyArg_ParseTuple(args, "O!ny*", &PyTuple_Type, &parts_arg, &rows, &known)) return NULL;
    PyObject *result = NULL, *codes = NULL;
    Py_buffer views[MAX_PARTS][3];
    int held[MAX_PARTS][3] = {{0}};
    Part parts[MAX_PARTS];
    Map map = {0};
    int count = (int)PyTuple_GET_SIZE(parts_arg);
    Py_ssize_t known_count = known.len / 8;
    if (count > MAX_PARTS || rows < 0) {
        PyErr_Format(PyExc_ValueError, "parts: at most %d columns; rows: not negative", MAX_PARTS);
        goto done;
    }
    for (int c = 0; c < count; c++) {
        PyObject *indices, *validity, *table;
        Part *p = &parts[c];
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(parts_arg, c), "OOnnO", &indices, &validity,
                              &p->offset, &p->width, &table))
            goto done;
        if (PyObject_GetBuffer(indices, &views[c][0], PyBUF_SIMPLE) < 0) goto done;
        held[c][0] = 1;
        if (PyObject_GetBuffer(table, &views[c][2], PyBUF_SIMPLE) < 0) goto done;
        held[c][2] = 1;
        p->validity = NULL;
        if (validity != Py_None) {
            if (PyObject_GetBuffer(validity, &views[c][1], PyBUF_SIMPLE) < 0) goto done;
            held[c][1] = 1;
            p->validity = views[c][1].buf;
            if (views[c][1].len * 8 < p->offset + rows) {
                PyErr_SetString(PyExc_ValueError, "validity: shorter than its rows");
                goto done;
            }
        }
        if ((p->width != 4 && p->width != 8) || p->offset < 0 ||
            views[c][0].len < (p->offset + rows) * p->width) {
            PyErr_SetString(PyExc_ValueError, "indices: 4 or 8 bytes wide, as long as the rows");
            goto done;
        }
        p->indices = views[c][0].buf;
        p->table = views[c][2].buf;
        p->size = views[c][2].len / 8;
    }
    if (map_init(&map, known_count + 64) < 0) {
        PyErr_NoMemory();
        goto done;
    }
    const int64_t *keys = known.buf;
    for (Py_ssize_t i = 0; i < known_count; i++) {
        int64_t id = map_id(&map, keys[i]);
        if (id != i) {
            if (id < 0)
                PyErr_NoMemory();
            else
                PyErr_SetString(PyExc_ValueError, "known: a key listed twice");
            goto done;
        }
    }
    codes = PyBytes_FromStringAndSize(NULL, rows * 8);
    if (!codes) goto done;
    int64_t *out = (int64_t *)PyBytes_AS_STRING(codes);
    int failed;
    Py_BEGIN_ALLOW_THREADS
    failed = codes_of(parts, count, rows, &map, out);
    Py_END_ALLOW_THREADS
    if (failed == -1) {
        PyErr_NoMemory();
        goto done;
    }
    if (failed == -2) {
        PyErr_SetString(PyExc_ValueError, "an index outside its table");
        goto done;
    }
    PyObject *new = PyBytes_FromStringAndSize((const char *)(map.keys + known_count),
                                              (map.count - known_count) * 8);
    PyObject *counts = PyBytes_FromStringAndSize((const char *)map.rows, map.count * 8);
    if (new && counts) result = Py_BuildValue("(ONN)", codes, new, counts);
    else {
        Py_XDECREF(new);
        Py_XDECREF(counts);
    }
done:
    for (int c = 0; c < count && c < MAX_PARTS; c++)
        for (int k = 0; k < 3; k++)
            if (held[c][k]) PyBuffer_Release(&views[c][k]);
    PyBuffer_Release(&known);
    map_free(&map);
    Py_XDECREF(codes);
    return result;
}

static PyMethodDef methods[] = {
    {"pack", pack, METH_VARARGS,
     "pack(parts, rows, known) -> (codes, new, counts)\n\n"
     "Each row's packed key and its id among the keys numbered so far; see the module's source."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_keys",
    "Packed provenance keys and their ids, in one pass over the records.", -1, methods,
};

PyMODINIT_FUNC PyInit__keys(void) { return PyModule_Create(&module); }
