/* The values at a few key paths of every line of a JSON Lines block, in one pass, without parsing
 * the rest of each record into values.
 *
 * Each line is walked as JSON: its structure is checked in full (objects, arrays, literals, numbers,
 * string escapes, no control characters in strings), but a string is only scanned for its end,
 * eight bytes at a time, unless its value is wanted. A line that is not one JSON object, that holds
 * a value of another kind than text where text is wanted, a key written with escapes on a wanted
 * path, a key that occurs twice on a wanted path, or nesting deeper than MAX_DEPTH is marked ODD:
 * the caller reads such a block again with a full parser, which says what is wrong with each line.
 * UTF-8 is not checked here; the caller checks the block at once.
 *
 * extract(block, paths, text, want) -> (starts, status, fields, chars)
 *   block  bytes-like, whole lines, ending with a newline
 *   paths  tuple of tuples of bytes: the keys leading to each wanted value (at most MAX_PATHS)
 *   text   the index in paths of the text, whose characters are counted (-1: none)
 *   want   tuple, one per path: False (only whether each line has a value), True (copy the
 *          values), or a list of bytes, the values met so far: the values are dictionary-encoded
 *          against it, and the values never met before are appended to it in order of first sight
 * returns
 *   starts  bytes, int64 x (lines + 1): where each line starts; the last is len(block)
 *   status  bytes, one per line: 0 read, 1 ODD, 2 blank
 *   fields  list, one per path: (validity bitmap, int32 offsets or None, UTF-8 values or None),
 *           or for a dictionary-encoded path (validity bitmap, int32 index into the list, None)
 *   chars   bytes, int64 per line: code points of the text value (0 without one), or None
 *
 * splice(...) writes blocked lines with their `_policy` field spliced in (see "splicing" below).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define MAX_PATHS 16
#define MAX_KEYS 16
#define MAX_DEPTH 64
#define KEY_BUFFER 256 /* bytes of an escaped key on a wanted path, resolved for comparing */

enum { READ = 0, ODD = 1, BLANK = 2 };

typedef struct {
    int count;
    int length[MAX_PATHS];
    const char *key[MAX_PATHS][MAX_KEYS];
    Py_ssize_t key_length[MAX_PATHS][MAX_KEYS];
} Paths;

typedef struct { /* where one line's value of one path sits in the block */
    int32_t start;
    int32_t length; /* -1: no text value at the path */
    int8_t escaped;
} Span;

typedef struct {
    const unsigned char *p, *end;
    const Paths *paths;
    Span *spans;                       /* this line's span per path */
    int text;                          /* the path whose value may be of any kind (-1: none) */
    int64_t chars;                     /* code points of this line's text value */
    int hits[MAX_PATHS][MAX_KEYS];     /* times key i of path p matched on this line */
    const unsigned char *base;
} Walk;

/* ---- strings ---------------------------------------------------------------------------------- */

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Nonzero when some byte of x is a quote, a backslash or below 0x20 (exact for "some"). */
static inline uint64_t special(uint64_t x) {
    uint64_t quote = x ^ (ONES * '"'), slash = x ^ (ONES * '\\');
    uint64_t zero_quote = (quote - ONES) & ~quote;
    uint64_t zero_slash = (slash - ONES) & ~slash;
    uint64_t control = (x - ONES * 0x20) & ~x;
    return (zero_quote | zero_slash | control) & HIGHS;
}

/* The set bits of a 16-bit mask, and the bytes of x with their high bit set: inline, because
 * without -mpopcnt (not every x86-64 has it) __builtin_popcount is a call into libgcc. */
static inline int bits16(unsigned m) {
    m = m - ((m >> 1) & 0x5555u);
    m = (m & 0x3333u) + ((m >> 2) & 0x3333u);
    m = (m + (m >> 4)) & 0x0F0Fu;
    return (int)((m + (m >> 8)) & 0x1Fu);
}

static inline int high_bytes(uint64_t x) { return (int)((((x & HIGHS) >> 7) * ONES) >> 56); }

static inline int hex(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int hex4(const unsigned char *p, const unsigned char *end) {
    if (end - p < 4) return -1;
    int a = hex(p[0]), b = hex(p[1]), c = hex(p[2]), d = hex(p[3]);
    if ((a | b | c | d) < 0) return -1;
    return (a << 12) | (b << 8) | (c << 4) | d;
}

/* At an opening quote: move past the string; its contents' span and whether it has escapes. With
 * ``extra`` (the text), add there the bytes of it that start no code point of its value
 * (continuation bytes, the rest of each escape), so that its length less them is its length in
 * code points, counted in the same pass; and refuse a lone surrogate escape, which no UTF-8 text
 * holds, as the unescaping of a wanted value does. A newline, like any control character, ends
 * the walk: it is never in a string. */
static int string(Walk *w, const unsigned char **start, Py_ssize_t *length, int *escaped,
                  int64_t *extra) {
    const unsigned char *p = w->p + 1, *end = w->end, *after_high = NULL;
    int64_t more = 0;
    *start = p;
    *escaped = 0;
    for (;;) {
#ifdef __SSE2__
        while (end - p >= 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)p);
            __m128i hit = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
                _mm_cmpeq_epi8(_mm_max_epu8(x, _mm_set1_epi8(0x1F)), _mm_set1_epi8(0x1F)));
            unsigned mask = (unsigned)_mm_movemask_epi8(hit);
            /* Continuation bytes are 0x80-0xBF: below -64 as signed bytes. */
            unsigned continuation = extra != NULL
                ? (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(x, _mm_set1_epi8(-64))) : 0;
            if (mask) {
                int before = __builtin_ctz(mask);
                if (continuation) more += bits16(continuation & ((1u << before) - 1));
                p += before;
                break;
            }
            if (continuation) more += bits16(continuation);
            p += 16;
        }
#endif
        while (end - p >= 8) {
            uint64_t x;
            memcpy(&x, p, 8);
            if (special(x)) break;
            if (extra != NULL) more += high_bytes(x & ~(x << 1));
            p += 8;
        }
        if (p >= end) return -1;
        unsigned char c = *p;
        if (c == '"') break;
        if (c < 0x20) return -1;
        if (c != '\\') {
            more += (c & 0xC0) == 0x80;
            p++;
            continue;
        }
        *escaped = 1;
        if (end - p < 2) return -1;
        unsigned char e = p[1];
        if (e == 'u') {
            int unit = hex4(p + 2, end);
            if (unit < 0) return -1;
            int low = unit >= 0xDC00 && unit < 0xE000, paired = low && p == after_high;
            more += 5 + paired; /* a pair of escapes stands for one code point */
            p += 6;
            after_high = NULL;
            if (unit >= 0xD800 && unit < 0xDC00) {
                int next = end - p >= 6 && p[0] == '\\' && p[1] == 'u' ? hex4(p + 2, end) : -1;
                if (extra != NULL && (next < 0xDC00 || next >= 0xE000)) return -1;
                after_high = p;
            } else if (extra != NULL && low && !paired) {
                return -1;
            }
        } else if (e != 0 && strchr("\"\\/bfnrt", e) != NULL) {
            more += 1;
            p += 2;
        } else {
            return -1;
        }
    }
    *length = p - *start;
    if (extra != NULL) *extra += more;
    w->p = p + 1;
    return 0;
}

static unsigned char *utf8(unsigned char *out, uint32_t cp) {
    if (cp < 0x80) {
        *out++ = (unsigned char)cp;
    } else if (cp < 0x800) {
        *out++ = 0xC0 | (cp >> 6);
        *out++ = 0x80 | (cp & 0x3F);
    } else if (cp < 0x10000) {
        *out++ = 0xE0 | (cp >> 12);
        *out++ = 0x80 | ((cp >> 6) & 0x3F);
        *out++ = 0x80 | (cp & 0x3F);
    } else {
        *out++ = 0xF0 | (cp >> 18);
        *out++ = 0x80 | ((cp >> 12) & 0x3F);
        *out++ = 0x80 | ((cp >> 6) & 0x3F);
        *out++ = 0x80 | (cp & 0x3F);
    }
    return out;
}

/* Write a string's value (escapes resolved) to out; its length, or -1 for a lone surrogate, which
 * has no UTF-8 form. The escapes were checked by string(). */
static Py_ssize_t unescape(const unsigned char *s, Py_ssize_t n, unsigned char *out) {
    unsigned char *o = out;
    Py_ssize_t i = 0;
    while (i < n) {
        if (s[i] != '\\') {
            *o++ = s[i++];
            continue;
        }
        unsigned char e = s[i + 1];
        if (e != 'u') {
            static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
            *o++ = (unsigned char)to[strchr(from, e) - from];
            i += 2;
            continue;
        }
        uint32_t cp = (uint32_t)hex4(s + i + 2, s + n);
        i += 6;
        if (cp >= 0xDC00 && cp < 0xE000) return -1;
        if (cp >= 0xD800 && cp < 0xDC00) {
            int low = i + 6 <= n && s[i] == '\\' && s[i + 1] == 'u' ? hex4(s + i + 2, s + n) : -1;
            if (low < 0xDC00 || low >= 0xE000) return -1;
            cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)low - 0xDC00);
            i += 6;
        }
        o = utf8(o, cp);
    }
    return o - out;
}

/* ---- values ----------------------------------------------------------------------------------- */

/* Blanks within a line: a newline ends the line, so it is not one of them here. */
static inline void space(Walk *w) {
    while (w->p < w->end && (*w->p == ' ' || *w->p == '\t' || *w->p == '\r')) w->p++;
}

static int literal(Walk *w, const char *word, Py_ssize_t n) {
    if (w->end - w->p < n || memcmp(w->p, word, n) != 0) return -1;
    w->p += n;
    return 0;
}

static int digits(Walk *w) {
    const unsigned char *from = w->p;
    while (w->p < w->end && *w->p >= '0' && *w->p <= '9') w->p++;
    return w->p > from ? 0 : -1;
}

static int number(Walk *w) {
    if (*w->p == '-') w->p++;
    if (w->p < w->end && *w->p == '0') {
        w->p++;
    } else if (digits(w) < 0) {
        return -1;
    }
    if (w->p < w->end && *w->p == '.') {
        w->p++;
        if (digits(w) < 0) return -1;
    }
    if (w->p < w->end && (*w->p == 'e' || *w->p == 'E')) {
        w->p++;
        if (w->p < w->end && (*w->p == '+' || *w->p == '-')) w->p++;
        if (digits(w) < 0) return -1;
    }
    return 0;
}

enum Kind { STRING, NUL, OTHER };

/* Past an opening bracket: 1 when ``close`` follows at once (and is passed), else 0. */
static int opened(Walk *w, unsigned char close) {
    w->p++;
    space(w);
    if (w->p < w->end && *w->p == close) {
        w->p++;
        return 1;
    }
    return 0;
}

/* After a member or element: 1 when a comma says another follows, 0 when ``close`` ends the
 * object or array (both passed), -1 for anything else. */
static int next_item(Walk *w, unsigned char close) {
    space(w);
    if (w->p >= w->end) return -1;
    if (*w->p == ',') {
        w->p++;
        space(w);
        return 1;
    }
    if (*w->p != close) return -1;
    w->p++;
    return 0;
}

static int value(Walk *w, uint32_t within, int depth, int64_t *extra, enum Kind *kind,
                 const unsigned char **start, Py_ssize_t *length, int *escaped);

/* At '{': the members, where ``within`` are the paths whose first ``depth`` keys led here. */
static int object(Walk *w, uint32_t within, int depth) {
    if (depth >= MAX_DEPTH) return -1;
    if (opened(w, '}')) return 0;
    for (;;) {
        if (w->p >= w->end || *w->p != '"') return -1;
        const unsigned char *key;
        Py_ssize_t key_length;
        int key_escaped;
        if (string(w, &key, &key_length, &key_escaped, NULL) < 0) return -1;
        unsigned char plain[KEY_BUFFER];
        if (key_escaped && within) {
            /* Compare what the key stands for: "\u0070rovider" is "provider". A key too long for
             * the buffer is the parser's to read; one with a lone surrogate matches no path. */
            if (key_length > KEY_BUFFER) return -1;
            key_length = unescape(key, key_length, plain);
            key = plain;
        }
        uint32_t next = 0, last = 0;
        for (int i = 0; i < w->paths->count; i++) {
            if (!(within >> i & 1) || w->paths->length[i] <= depth) continue;
            if (w->paths->key_length[i][depth] != key_length ||
                memcmp(w->paths->key[i][depth], key, key_length) != 0)
                continue;
            w->hits[i][depth]++;
            if (w->paths->length[i] == depth + 1)
                last |= 1u << i;
            else
                next |= 1u << i;
        }
        space(w);
        if (w->p >= w->end || *w->p != ':') return -1;
        w->p++;
        space(w);
        enum Kind kind;
        const unsigned char *start = NULL;
        Py_ssize_t length = 0;
        int escaped = 0;
        int64_t extra = 0;
        int text = w->text >= 0 && (last >> w->text & 1);
        if (value(w, next, depth + 1, text ? &extra : NULL, &kind, &start, &length, &escaped) < 0)
            return -1;
        if (text && kind == STRING) w->chars = length - extra;
        for (int i = 0; last; i++, last >>= 1) {
            if (!(last & 1)) continue;
            if (kind == STRING) {
                w->spans[i].start = (int32_t)(start - w->base);
                w->spans[i].length = (int32_t)length;
                w->spans[i].escaped = (int8_t)escaped;
            } else if (kind == OTHER && i != w->text) {
                return -1; /* a value of another kind than text: the parser says which */
            } /* a text of another kind is no text, as the parser reads it */
        }
        int more = next_item(w, '}');
        if (more <= 0) return more;
    }
}

static int array(Walk *w, int depth) {
    if (depth >= MAX_DEPTH) return -1;
    if (opened(w, ']')) return 0;
    for (;;) {
        enum Kind kind;
        const unsigned char *start;
        Py_ssize_t length;
        int escaped;
        if (value(w, 0, depth + 1, NULL, &kind, &start, &length, &escaped) < 0) return -1;
        int more = next_item(w, ']');
        if (more <= 0) return more;
    }
}

static int value(Walk *w, uint32_t within, int depth, int64_t *extra, enum Kind *kind,
                 const unsigned char **start, Py_ssize_t *length, int *escaped) {
    if (w->p >= w->end) return -1;
    *kind = OTHER;
    switch (*w->p) {
    case '"':
        *kind = STRING;
        return string(w, start, length, escaped, extra);
    case '{':
        return object(w, within, depth);
    case '[':
        return array(w, depth);
    case 't':
        return literal(w, "true", 4);
    case 'f':
        return literal(w, "false", 5);
    case 'n':
        *kind = NUL;
        return literal(w, "null", 4);
    default:
        if (*w->p == '-' || (*w->p >= '0' && *w->p <= '9')) return number(w);
        return -1;
    }
}

/* The line at w->p: READ, ODD or BLANK, its spans and characters filled in, w->p past its newline. */
static int line(Walk *w) {
    const Paths *paths = w->paths;
    for (int i = 0; i < paths->count; i++) {
        w->spans[i].length = -1;
        memset(w->hits[i], 0, sizeof(int) * (size_t)paths->length[i]);
    }
    w->chars = 0;
    int state = READ;
    space(w);
    if (w->p == w->end || *w->p == '\n') {
        state = BLANK;
    } else if (*w->p != '{' || object(w, (1u << paths->count) - 1, 0) < 0) {
        state = ODD;
    } else {
        space(w);
        if (w->p != w->end && *w->p != '\n') state = ODD; /* more after the object */
        for (int i = 0; i < paths->count && state == READ; i++)
            for (int k = 0; k < paths->length[i]; k++)
                if (w->hits[i][k] > 1) state = ODD; /* the parser takes the last: let it */
    }
    /* Nothing walks past a newline, so the line ends at the first one from here. */
    const unsigned char *stop = w->p < w->end ? memchr(w->p, '\n', w->end - w->p) : NULL;
    w->p = stop != NULL ? stop + 1 : w->end;
    return state;
}

typedef struct { /* per-line results, grown as lines are found */
    Py_ssize_t lines, capacity;
    int64_t *starts, *chars;
    unsigned char *status;
    Span *spans;
} Found;

static int grow(Found *f, int paths) {
    Py_ssize_t capacity = f->capacity ? 2 * f->capacity : 1024;
    int64_t *starts = realloc(f->starts, sizeof(int64_t) * (size_t)(capacity + 1));
    if (starts != NULL) f->starts = starts;
    int64_t *chars = realloc(f->chars, sizeof(int64_t) * (size_t)capacity);
    if (chars != NULL) f->chars = chars;
    unsigned char *status = realloc(f->status, (size_t)capacity);
    if (status != NULL) f->status = status;
    Span *spans = realloc(f->spans, sizeof(Span) * (size_t)capacity * (size_t)(paths ? paths : 1));
    if (spans != NULL) f->spans = spans;
    if (!starts || !chars || !status || !spans) return -1;
    f->capacity = capacity;
    return 0;
}

/* Walk every line of the block (without the GIL: no Python object is touched). */
static int walk(const unsigned char *block, Py_ssize_t size, const Paths *paths, int text, Found *f) {
    Walk w = {.paths = paths, .base = block, .text = text, .p = block, .end = block + size};
    while (w.p < w.end) {
        if (f->lines == f->capacity && grow(f, paths->count) < 0) return -1;
        Py_ssize_t i = f->lines++;
        f->starts[i] = w.p - block;
        w.spans = f->spans + i * paths->count;
        f->status[i] = (unsigned char)line(&w);
        f->chars[i] = f->status[i] == READ ? w.chars : 0;
    }
    if (f->lines == f->capacity && grow(f, paths->count) < 0) return -1;
    f->starts[f->lines] = size;
    return 0;
}

/* ---- dictionaries ----------------------------------------------------------------------------- */

/* Provenance repeats: a block of thousands of records holds a few dozen distinct providers, models
 * and days. Encoding them here, where the bytes are at hand and without the GIL, spares the caller
 * hashing every record's strings again. The values a file met in earlier blocks come first, so a
 * value keeps its index from block to block. */

typedef struct {
    const unsigned char *p;
    Py_ssize_t n;
    uint64_t hash;
} Entry;

typedef struct {
    PyObject *known;   /* a tuple of the values met before (bytes), held while they are read */
    Entry *entries;    /* the known values, then the new ones in order of first sight */
    Py_ssize_t count;
    int32_t *slots;    /* open addressing: an entry's index + 1, 0 where empty */
    size_t mask;
    int32_t *index;    /* per line */
    unsigned char *scratch, **owned; /* unescaped values; copies of the new ones among them */
    Py_ssize_t scratch_size, owned_count;
} Dictionary;

static uint64_t hash_bytes(const unsigned char *p, Py_ssize_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)n;
    for (; n > 0; p += 8, n -= 8) {
        uint64_t x = 0;
        memcpy(&x, p, n < 8 ? (size_t)n : 8);
        h = (h ^ x) * 0xFF51AFD7ED558CCDULL;
        h ^= h >> 32;
    }
    return h ^ (h >> 29);
}

/* The slot of the value p[:n] with hash h: where it is, or the empty one where it would go. */
static size_t slot(const Dictionary *d, const unsigned char *p, Py_ssize_t n, uint64_t h) {
    for (size_t i = h & d->mask;; i = (i + 1) & d->mask) {
        int32_t at = d->slots[i];
        if (at == 0) return i;
        const Entry *e = &d->entries[at - 1];
        if (e->hash == h && e->n == n && memcmp(e->p, p, (size_t)n) == 0) return i;
    }
}

static void dictionary_free(Dictionary *d) {
    for (Py_ssize_t i = 0; i < d->owned_count; i++) free(d->owned[i]);
    free(d->owned);
    free(d->scratch);
    free(d->entries);
    free(d->slots);
    free(d->index);
    Py_CLEAR(d->known);
}

/* Room for ``lines`` new values besides those of ``values`` (a list of bytes); with the GIL. */
static int dictionary_open(Dictionary *d, PyObject *values, Py_ssize_t lines) {
    d->known = PySequence_Tuple(values);
    if (d->known == NULL) return -1;
    Py_ssize_t known = PyTuple_GET_SIZE(d->known), most = known + lines;
    size_t capacity = 16;
    while (capacity < 2 * (size_t)most) capacity *= 2;
    d->entries = malloc(sizeof(Entry) * (size_t)(most ? most : 1));
    d->slots = calloc(capacity, sizeof(int32_t));
    d->index = malloc(sizeof(int32_t) * (size_t)(lines ? lines : 1));
    d->owned = malloc(sizeof(unsigned char *) * (size_t)(lines ? lines : 1));
    if (!d->entries || !d->slots || !d->index || !d->owned) {
        PyErr_NoMemory();
        return -1;
    }
    d->mask = capacity - 1;
    for (Py_ssize_t i = 0; i < known; i++) {
        PyObject *value = PyTuple_GET_ITEM(d->known, i);
        if (!PyBytes_Check(value)) {
            PyErr_SetString(PyExc_TypeError, "want: a list of the bytes values met so far");
            return -1;
        }
        const unsigned char *p = (const unsigned char *)PyBytes_AS_STRING(value);
        Py_ssize_t n = PyBytes_GET_SIZE(value);
        uint64_t h = hash_bytes(p, n);
        size_t at = slot(d, p, n, h);
        d->entries[d->count++] = (Entry){p, n, h}; /* indices stay the list's positions */
        if (d->slots[at] == 0) d->slots[at] = (int32_t)d->count; /* a repeat: the first is found */
    }
    return 0;
}

/* Each line's index of its value of path k (without the GIL). A value with a lone surrogate
 * escape has no UTF-8 form: its line becomes ODD, as when the value is copied. */
static int encode(Dictionary *d, const unsigned char *block, const Span *spans, int paths, int k,
                  unsigned char *state, Py_ssize_t lines) {
    for (Py_ssize_t i = 0; i < lines; i++) {
        const Span *s = &spans[i * paths + k];
        d->index[i] = 0;
        if (state[i] != READ || s->length < 0) continue;
        const unsigned char *p = block + s->start;
        Py_ssize_t n = s->length;
        if (s->escaped) {
            if (n > d->scratch_size) {
                free(d->scratch);
                d->scratch = malloc((size_t)n);
                if (d->scratch == NULL) return -1;
                d->scratch_size = n;
            }
            n = unescape(p, n, d->scratch);
            if (n < 0) {
                state[i] = ODD;
                continue;
            }
            p = d->scratch;
        }
        uint64_t h = hash_bytes(p, n);
        size_t at = slot(d, p, n, h);
        if (d->slots[at] == 0) {
            if (p == d->scratch) { /* the scratch is reused: keep a copy */
                unsigned char *copy = malloc((size_t)(n ? n : 1));
                if (copy == NULL) return -1;
                memcpy(copy, p, (size_t)n);
                p = d->owned[d->owned_count++] = copy;
            }
            d->entries[d->count] = (Entry){p, n, h};
            d->slots[at] = (int32_t)++d->count;
        }
        d->index[i] = d->slots[at] - 1;
    }
    return 0;
}

/* Append the values first met in this block to ``values`` (with the GIL). */
static int dictionary_extend(const Dictionary *d, PyObject *values) {
    for (Py_ssize_t i = PyTuple_GET_SIZE(d->known); i < d->count; i++) {
        PyObject *value = PyBytes_FromStringAndSize((const char *)d->entries[i].p, d->entries[i].n);
        if (value == NULL || PyList_Append(values, value) < 0) {
            Py_XDECREF(value);
            return -1;
        }
        Py_DECREF(value);
    }
    return 0;
}

/* ---- splicing --------------------------------------------------------------------------------- */

/* Blocked lines with a field spliced in before each line's closing brace: the line as read without
 * its "}\n", then ", " (unless the object is empty), the head of its code, its number, the tail of
 * its code. One copy of each line into the output, where Arrow would make three. */

typedef struct {
    const int64_t *offsets; /* large_binary offsets, from the array's first element */
    const unsigned char *data;
    Py_ssize_t count;
} Strings;

static int strings(PyObject *offsets, PyObject *data, Py_ssize_t first, Py_buffer views[2],
                   Strings *out) {
    if (PyObject_GetBuffer(offsets, &views[0], PyBUF_SIMPLE) < 0) return -1;
    if (PyObject_GetBuffer(data, &views[1], PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&views[0]);
        return -1;
    }
    out->offsets = (const int64_t *)views[0].buf + first;
    out->data = views[1].buf;
    out->count = views[0].len / 8 - 1 - first;
    for (Py_ssize_t i = 0; i <= out->count; i++) {
        if (out->offsets[i] < 0 || out->offsets[i] > views[1].len ||
            (i && out->offsets[i] < out->offsets[i - 1])) {
            PyErr_SetString(PyExc_ValueError, "offsets: not within their data, or not in order");
            PyBuffer_Release(&views[0]);
            PyBuffer_Release(&views[1]);
            return -1;
        }
    }
    return 0;
}

static int digits_of(int64_t n, char *out) {
    char reversed[24];
    int k = 0;
    uint64_t v = n < 0 ? (uint64_t)(-(n + 1)) + 1 : (uint64_t)n;
    do {
        reversed[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    int length = 0;
    if (n < 0) out[length++] = '-';
    while (k) out[length++] = reversed[--k];
    return length;
}

static PyObject *splice(PyObject *module, PyObject *args) {
    PyObject *line_offsets, *line_data, *head_offsets, *head_data, *tail_offsets, *tail_data;
    Py_ssize_t first;
    Py_buffer rows_view, codes_view, numbers_view;
    if (!PyArg_ParseTuple(args, "OOny*y*y*OOOO", &line_offsets, &line_data, &first, &rows_view,
                          &codes_view, &numbers_view, &head_offsets, &head_data, &tail_offsets,
                          &tail_data))
        return NULL;
    PyObject *result = NULL;
    Py_buffer views[3][2];
    int held = 0;
    Strings lines, heads, tails;
    Py_ssize_t count = rows_view.len / 8;
    const int64_t *rows = rows_view.buf, *codes = codes_view.buf, *numbers = numbers_view.buf;
    if (codes_view.len != rows_view.len || numbers_view.len != rows_view.len) {
        PyErr_SetString(PyExc_ValueError, "rows, codes, numbers: one int64 each per line");
        goto done;
    }
    if (strings(line_offsets, line_data, first, views[0], &lines) < 0) goto done;
    held = 1;
    if (strings(head_offsets, head_data, 0, views[1], &heads) < 0) goto done;
    held = 2;
    if (strings(tail_offsets, tail_data, 0, views[2], &tails) < 0) goto done;
    held = 3;
    Py_ssize_t total = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        int64_t row = rows[i], code = codes[i];
        if (row < 0 || row >= lines.count || code < 0 || code >= heads.count ||
            code >= tails.count) {
            PyErr_SetString(PyExc_ValueError, "a row or code out of range");
            goto done;
        }
        const unsigned char *line = lines.data + lines.offsets[row];
        int64_t n = lines.offsets[row + 1] - lines.offsets[row];
        if (n < 2 || line[n - 2] != '}' || line[n - 1] != '\n') {
            PyErr_SetString(PyExc_ValueError, "a line that does not end with \"}\\n\"");
            goto done;
        }
        total += n + 2 + 20 + (heads.offsets[code + 1] - heads.offsets[code]) +
                 (tails.offsets[code + 1] - tails.offsets[code]);
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, total);
    if (!out) goto done;
    unsigned char *o = (unsigned char *)PyBytes_AS_STRING(out);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count; i++) {
        int64_t row = rows[i], code = codes[i];
        const unsigned char *line = lines.data + lines.offsets[row];
        int64_t n = lines.offsets[row + 1] - lines.offsets[row] - 2;
        memcpy(o, line, (size_t)n);
        /* An object with a key has a quote near its start; "{}" and "{ }" have none. */
        if (memchr(line, '"', (size_t)n) != NULL) {
            memcpy(o + n, ", ", 2);
            o += 2;
        }
        o += n;
        int64_t h = heads.offsets[code], hn = heads.offsets[code + 1] - h;
        memcpy(o, heads.data + h, (size_t)hn);
        o += hn;
        o += digits_of(numbers[i], (char *)o);
        int64_t t = tails.offsets[code], tn = tails.offsets[code + 1] - t;
        memcpy(o, tails.data + t, (size_t)tn);
        o += tn;
    }
    Py_END_ALLOW_THREADS
    if (_PyBytes_Resize(&out, o - (unsigned char *)PyBytes_AS_STRING(out)) < 0) goto done;
    result = out;
done:
    for (int k = 0; k < held; k++) {
        PyBuffer_Release(&views[k][0]);
        PyBuffer_Release(&views[k][1]);
    }
    PyBuffer_Release(&rows_view);
    PyBuffer_Release(&codes_view);
    PyBuffer_Release(&numbers_view);
    return result;
}

/* ---- the module ------------------------------------------------------------------------------- */

static int read_paths(PyObject *paths, Paths *out) {
    if (!PyTuple_Check(paths) || PyTuple_GET_SIZE(paths) > MAX_PATHS) {
        PyErr_Format(PyExc_ValueError, "paths: a tuple of at most %d paths", MAX_PATHS);
        return -1;
    }
    out->count = (int)PyTuple_GET_SIZE(paths);
    for (int i = 0; i < out->count; i++) {
        PyObject *path = PyTuple_GET_ITEM(paths, i);
        if (!PyTuple_Check(path) || PyTuple_GET_SIZE(path) < 1 || PyTuple_GET_SIZE(path) > MAX_KEYS) {
            PyErr_Format(PyExc_ValueError, "paths[%d]: a tuple of 1 to %d keys", i, MAX_KEYS);
            return -1;
        }
        out->length[i] = (int)PyTuple_GET_SIZE(path);
        for (int k = 0; k < out->length[i]; k++) {
            PyObject *key = PyTuple_GET_ITEM(path, k);
            if (!PyBytes_Check(key)) {
                PyErr_Format(PyExc_TypeError, "paths[%d][%d]: bytes", i, k);
                return -1;
            }
            out->key[i][k] = PyBytes_AS_STRING(key);
            out->key_length[i][k] = PyBytes_GET_SIZE(key);
        }
    }
    return 0;
}

static PyObject *extract(PyObject *module, PyObject *args) {
    Py_buffer view;
    PyObject *paths_arg, *want_arg;
    int text;
    if (!PyArg_ParseTuple(args, "y*O!iO!", &view, &PyTuple_Type, &paths_arg, &text, &PyTuple_Type,
                          &want_arg))
        return NULL;
    PyObject *result = NULL, *starts = NULL, *status = NULL, *fields = NULL, *chars = NULL;
    Found found = {0};
    Paths paths;
    int want[MAX_PATHS] = {0};
    PyObject *lists[MAX_PATHS] = {0}; /* borrowed: the values met so far, per encoded path */
    Dictionary dicts[MAX_PATHS];
    memset(dicts, 0, sizeof dicts);
    if (read_paths(paths_arg, &paths) < 0) goto done;
    if (PyTuple_GET_SIZE(want_arg) != paths.count || text >= paths.count) {
        PyErr_SetString(PyExc_ValueError, "want: one flag per path; text: an index of paths or -1");
        goto done;
    }
    for (int i = 0; i < paths.count; i++) {
        PyObject *flag = PyTuple_GET_ITEM(want_arg, i);
        if (PyList_Check(flag)) {
            lists[i] = flag;
        } else if ((want[i] = PyObject_IsTrue(flag)) < 0) {
            goto done;
        }
    }
    const unsigned char *block = view.buf;
    Py_ssize_t size = view.len;
    if (size > INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "block: at most 2 GiB");
        goto done;
    }
    int failed;
    Py_BEGIN_ALLOW_THREADS
    failed = walk(block, size, &paths, text, &found);
    Py_END_ALLOW_THREADS
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t lines = found.lines;
    Span *spans = found.spans;
    unsigned char *state = found.status;
    for (int k = 0; k < paths.count; k++)
        if (lists[k] && dictionary_open(&dicts[k], lists[k], lines) < 0) goto done;
    Py_BEGIN_ALLOW_THREADS
    for (int k = 0; k < paths.count && !failed; k++)
        if (lists[k]) failed = encode(&dicts[k], block, spans, paths.count, k, state, lines);
    Py_END_ALLOW_THREADS
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    starts = PyBytes_FromStringAndSize((const char *)found.starts, (lines + 1) * 8);
    chars = text >= 0 ? PyBytes_FromStringAndSize((const char *)found.chars, lines * 8)
                      : Py_NewRef(Py_None);
    if (!starts || !chars) goto done;
    fields = PyList_New(paths.count);
    if (!fields) goto done;
    for (int k = 0; k < paths.count; k++) {
        PyObject *valid = PyBytes_FromStringAndSize(NULL, (lines + 7) / 8);
        if (!valid) goto done;
        unsigned char *bits = (unsigned char *)PyBytes_AS_STRING(valid);
        memset(bits, 0, (lines + 7) / 8);
        Py_ssize_t total = 0;
        for (Py_ssize_t i = 0; i < lines; i++) {
            Span *s = &spans[i * paths.count + k];
            if (state[i] == READ && s->length >= 0) {
                bits[i >> 3] |= (unsigned char)(1u << (i & 7));
                total += s->length;
            }
        }
        PyObject *offsets = Py_NewRef(Py_None), *values = Py_NewRef(Py_None);
        if (lists[k]) {
            Py_DECREF(offsets);
            offsets = PyBytes_FromStringAndSize((const char *)dicts[k].index, lines * 4);
            if (!offsets || dictionary_extend(&dicts[k], lists[k]) < 0) {
                Py_XDECREF(offsets);
                Py_DECREF(values);
                Py_DECREF(valid);
                goto done;
            }
        } else if (want[k]) {
            Py_DECREF(offsets);
            Py_DECREF(values);
            offsets = PyBytes_FromStringAndSize(NULL, (lines + 1) * 4);
            values = PyBytes_FromStringAndSize(NULL, total);
            if (!offsets || !values) {
                Py_XDECREF(offsets);
                Py_XDECREF(values);
                Py_DECREF(valid);
                goto done;
            }
            int32_t *at = (int32_t *)PyBytes_AS_STRING(offsets);
            unsigned char *out = (unsigned char *)PyBytes_AS_STRING(values);
            int32_t used = 0;
            for (Py_ssize_t i = 0; i < lines; i++) {
                Span *s = &spans[i * paths.count + k];
                at[i] = used;
                if (state[i] != READ || s->length < 0) continue;
                Py_ssize_t n = s->length;
                if (s->escaped) {
                    n = unescape(block + s->start, s->length, out + used);
                    if (n < 0) { /* a lone surrogate: no UTF-8 for it, so the parser's case */
                        state[i] = ODD;
                        bits[i >> 3] &= (unsigned char)~(1u << (i & 7));
                        n = 0;
                    }
                } else {
                    memcpy(out + used, block + s->start, n);
                }
                used += (int32_t)n;
            }
            at[lines] = used;
            if (_PyBytes_Resize(&values, used) < 0) {
                Py_DECREF(offsets);
                Py_DECREF(valid);
                goto done;
            }
        }
        PyList_SET_ITEM(fields, k, Py_BuildValue("(NNN)", valid, offsets, values));
    }
    status = PyBytes_FromStringAndSize((const char *)state, lines);
    if (!status) goto done;
    result = Py_BuildValue("(OOOO)", starts, status, fields, chars);
done:
    for (int k = 0; k < MAX_PATHS; k++) dictionary_free(&dicts[k]);
    free(found.starts);
    free(found.chars);
    free(found.status);
    free(found.spans);
    Py_XDECREF(starts);
    Py_XDECREF(status);
    Py_XDECREF(fields);
    Py_XDECREF(chars);
    PyBuffer_Release(&view);
    return result;
}

static PyMethodDef methods[] = {
    {"extract", extract, METH_VARARGS,
     "extract(block, paths, text, want) -> (starts, status, fields, chars)\n\n"
     "The values at ``paths`` of every line of a JSON Lines block; see the module's source."},
    {"splice", splice, METH_VARARGS,
     "splice(line_offsets, line_data, first, rows, codes, numbers, head_offsets, head_data,\n"
     "       tail_offsets, tail_data) -> bytes\n\n"
     "Lines with a field spliced in before each closing brace; see the module's source."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_jsonl_fields",
    "The values at a few key paths of every line of a JSON Lines block, in one pass.", -1, methods,
};

PyMODINIT_FUNC PyInit__jsonl_fields(void) { return PyModule_Create(&module); }
