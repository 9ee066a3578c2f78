/* The bulk pass of `databank audit verify` over an SQLite log, in C.

   scan(path, lo, hi) reads the entries lo..hi-1 of the access log in the SQLite database file at
   `path`, through a read-only connection of its own and one SELECT (so one snapshot), and checks
   for each entry what the exact pass of databank/services/audit_verify.py checks:

   - seq runs gapless from lo, and the body ends with its `"seq":N}`;
   - each body after the first names the leaf hash of the one before it, as `"prev":"<hex>"` at
     the first `"prev":"` it holds (the first entry's claim is returned for the caller to check);
   - the indexed columns' copies are in the body, as the canonical JSON fragments the exact pass
     looks for: `"event":..`, `"owner":..`, `"purpose":..`, `"decision":..`, `"area":..`,
     `"person":..`, and the actor's `"org":..` and `"user":..` (`"actor":null` for none).

   It hashes the RFC 6962 leaves, SHA-256(0x00 || body), and the levels of the chunk's subtree
   (node = SHA-256(0x01 || left || right)), and returns (levels, first_claim): levels[k] the
   node hashes of level k, 32 bytes each, concatenated (level 0 the leaves). It returns None as
   soon as anything is wrong, unusual or unproven (an error, a row missing, a check failing, a
   column of another type, a value with a quote, backslash or non-ASCII byte, a body with no
   chain link): the caller's exact pass then checks the chunk and names the problem. So this code
   never judges a log bad; it vouches only for chunks the exact pass would accept, and an
   operator can switch it off (DATABANK_VERIFY_NATIVE=0) and get the same verdicts.

   The body and the columns come from the database, which verify does not trust: every read of
   them is bounded by the lengths SQLite gives, and fragments are built in fixed buffers from
   values of bounded length. The GIL is released while the chunk is read and hashed. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <openssl/evp.h>
#include <dlfcn.h>
#include <sqlite3.h>
#include <string.h>

#define HASH_LEN 32
#define MAX_VALUE 64    /* longest column value made into a fragment; longer ones go to the exact pass */
#define MAX_FRAGMENT 96 /* the longest key, quoted, + value + 4 dashes + 2 quotes */

/* The SQLite library this process's `sqlite3` module uses, found through that module (`bind`),
   never a copy of our own: two copies of SQLite in one process would each keep their own POSIX
   locks on the database file, and closing a file in one copy drops the locks of the other
   (sqlite.org, "How To Corrupt An SQLite Database File", 2.2.1). sqlite3.h gives the types only. */
static struct {
    int (*open_v2)(const char *, sqlite3 **, int, const char *);
    int (*busy_timeout)(sqlite3 *, int);
    int (*prepare_v2)(sqlite3 *, const char *, int, sqlite3_stmt **, const char **);
    int (*bind_int64)(sqlite3_stmt *, int, sqlite3_int64);
    int (*step)(sqlite3_stmt *);
    int (*column_type)(sqlite3_stmt *, int);
    sqlite3_int64 (*column_int64)(sqlite3_stmt *, int);
    const void *(*column_blob)(sqlite3_stmt *, int);
    const unsigned char *(*column_text)(sqlite3_stmt *, int);
    int (*column_bytes)(sqlite3_stmt *, int);
    int (*finalize)(sqlite3_stmt *);
    int (*close)(sqlite3 *);
} lib;
static int bound = 0;

static const char QUERY[] =
    "SELECT seq, body, person_id, event, actor_user_id, actor_org_id, owner_org_id, purpose, "
    "decision, area FROM audit_entries WHERE seq >= ?1 ORDER BY seq LIMIT ?2";
enum { C_SEQ, C_BODY, C_PERSON, C_EVENT, C_USER, C_ORG, C_OWNER, C_PURPOSE, C_DECISION, C_AREA };

static const char PREV[] = "\"prev\":\"";
#define PREV_LEN 8

/* A column of the rows, as scan_chunk reads it: its fragment for the current row, kept while
   the column holds the same value (most repeat: events, purposes, orgs, users), and how far after
   the previous copy bodies held it lately (bodies of one kind hold it at one distance, whatever
   came before, the actor's roles say, shifted both). */
#define HINTS 4
typedef struct {
    int type, value_len, fragment_len; /* type 0: nothing made yet */
    unsigned char value[MAX_VALUE];
    char fragment[MAX_FRAGMENT];
    int gap[HINTS], next;
} Column;

/* The column's fragment `"key":null` or `"key":"value"`, as `_Fragments` and `_copies_problem`
   make it (`as_uuid`: a value of 32 characters written 8-4-4-4-12, as `_uuid_text` does), in
   `c->fragment`. `key` is the quoted key and its colon. Returns its length, or -1 if the column
   holds anything else than text or null, or text that is long or not plain printable ASCII (the
   exact pass judges those). */
static int fragment(Column *c, const char *key, sqlite3_stmt *row, int column, int as_uuid) {
    int type = lib.column_type(row, column);
    const unsigned char *value = NULL;
    int n = 0;
    if (type == SQLITE_TEXT) {
        value = lib.column_text(row, column);
        n = lib.column_bytes(row, column);
        if (value == NULL || n > MAX_VALUE)
            return -1;
        if (type == c->type && n == c->value_len && memcmp(value, c->value, (size_t)n) == 0)
            return c->fragment_len; /* the value of the row before */
        for (int i = 0; i < n; i++)
            if (value[i] < 0x20 || value[i] > 0x7e || value[i] == '"' || value[i] == '\\')
                return -1;
    } else if (type == SQLITE_NULL) {
        if (c->type == SQLITE_NULL)
            return c->fragment_len;
    } else {
        return -1;
    }
    size_t key_len = strlen(key);
    memcpy(c->fragment, key, key_len);
    char *at = c->fragment + key_len;
    if (type == SQLITE_NULL) {
        memcpy(at, "null", 4);
        at += 4;
    } else {
        *at++ = '"';
        if (as_uuid && n == 32) {
            static const int groups[] = {8, 4, 4, 4, 12};
            for (int g = 0, from = 0; g < 5; from += groups[g], g++) {
                if (g > 0)
                    *at++ = '-';
                memcpy(at, value + from, (size_t)groups[g]);
                at += groups[g];
            }
        } else {
            memcpy(at, value, (size_t)n);
            at += n;
        }
        *at++ = '"';
        memcpy(c->value, value, (size_t)n);
    }
    c->type = type;
    c->value_len = n;
    c->fragment_len = (int)(at - c->fragment);
    return c->fragment_len;
}

/* Whether the body holds the column's fragment at or after `*from` (false for a column
   `fragment` refuses); if so, `*from` moves past it. Canonical JSON sorts keys, so the copies
   stand in the body in the order scan_chunk looks for them, and each search starts where the
   last one ended. Looking in a part of the body only is stricter than `fragment in body`,
   never looser; the distances where recent bodies held the copy are tried before a search. */
static int holds(const unsigned char *body, int length, int *from, const char *key,
                 sqlite3_stmt *row, int column, int as_uuid, Column *c) {
    int n = fragment(c, key, row, column, as_uuid);
    if (n <= 0 || n > length - *from)
        return 0;
    for (int i = 0; i < HINTS; i++) {
        int at = *from + c->gap[i];
        if (at <= length - n && memcmp(body + at, c->fragment, (size_t)n) == 0) {
            *from = at + n;
            return 1;
        }
    }
    const unsigned char *found =
        memmem(body + *from, (size_t)(length - *from), c->fragment, (size_t)n);
    if (found == NULL)
        return 0;
    int at = (int)(found - body);
    c->gap[c->next] = at - *from;
    c->next = (c->next + 1) % HINTS;
    *from = at + n;
    return 1;
}

/* `"seq":N}`, the end of every body, in `out` (at least 30 bytes); returns its length. */
static int seq_tail(char *out, long long seq) {
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char)('0' + seq % 10);
        seq /= 10;
    } while (seq > 0);
    memcpy(out, "\"seq\":", 6);
    for (int i = 0; i < n; i++)
        out[6 + i] = digits[n - 1 - i];
    out[6 + n] = '}';
    return 7 + n;
}

static void to_hex(const unsigned char *hash, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < HASH_LEN; i++) {
        out[2 * i] = digits[hash[i] >> 4];
        out[2 * i + 1] = digits[hash[i] & 15];
    }
}

static int digest(EVP_MD_CTX *ctx, const EVP_MD *md, unsigned char prefix, const void *a,
                  size_t a_len, const void *b, size_t b_len, unsigned char *out) {
    return EVP_DigestInit_ex2(ctx, md, NULL) && EVP_DigestUpdate(ctx, &prefix, 1) &&
           EVP_DigestUpdate(ctx, a, a_len) && (b_len == 0 || EVP_DigestUpdate(ctx, b, b_len)) &&
           EVP_DigestFinal_ex(ctx, out, NULL);
}

typedef struct {
    unsigned char *nodes;       /* every level, one after the other */
    Py_ssize_t level_start[64]; /* index of each level's first node in `nodes` */
    Py_ssize_t level_count[64];
    int levels;
    char claim[MAX_VALUE + 1]; /* what the first entry names as its predecessor */
    int claim_len;
} Scan;

/* The checks and hashes of one chunk, without the GIL. Returns 1 if every entry passed. */
static int scan_chunk(const char *path, long long lo, long long count, Scan *out) {
    sqlite3 *db = NULL;
    sqlite3_stmt *row = NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
    int ok = 0;
    long long seen = 0;
    char prev_hex[2 * HASH_LEN];
    char tail[40];
    Column columns[9] = {{0}}; /* nothing made yet, distances of 0 until bodies show others */

    if (ctx == NULL || md == NULL)
        goto done;
    if (lib.open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        goto done;
    lib.busy_timeout(db, 10000);
    if (lib.prepare_v2(db, QUERY, -1, &row, NULL) != SQLITE_OK)
        goto done;
    lib.bind_int64(row, 1, lo);
    lib.bind_int64(row, 2, count);
    unsigned char *leaves = out->nodes;
    for (;;) {
        int step = lib.step(row);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW || seen >= count)
            goto done;
        long long seq = lo + seen;
        if (lib.column_type(row, C_SEQ) != SQLITE_INTEGER ||
            lib.column_int64(row, C_SEQ) != seq || lib.column_type(row, C_BODY) != SQLITE_BLOB)
            goto done;
        const unsigned char *body = lib.column_blob(row, C_BODY);
        int length = lib.column_bytes(row, C_BODY);
        if (body == NULL || length <= 0)
            goto done;
        /* the seq the body ends with */
        int tail_len = seq_tail(tail, seq);
        if (tail_len >= length || memcmp(body + length - tail_len, tail, (size_t)tail_len) != 0)
            goto done;
        /* the chain link: the first `"prev":"`, then the leaf before it in hex and a quote */
        const unsigned char *link = memmem(body, (size_t)length, PREV, PREV_LEN);
        if (link == NULL)
            goto done; /* an entry older than the chain: the exact pass decides */
        Py_ssize_t named_at = (link - body) + PREV_LEN, left = length - named_at;
        if (seen == 0) {
            const unsigned char *quote = memchr(body + named_at, '"', (size_t)left);
            if (quote == NULL || quote - (body + named_at) > MAX_VALUE)
                goto done;
            out->claim_len = (int)(quote - (body + named_at));
            memcpy(out->claim, body + named_at, (size_t)out->claim_len);
        } else if (left < 2 * HASH_LEN + 1 ||
                   memcmp(body + named_at, prev_hex, 2 * HASH_LEN) != 0 ||
                   body[named_at + 2 * HASH_LEN] != '"') {
            goto done;
        }
        /* the indexed columns' copies, in the order of their keys in the body */
        int from = 0;
        if (lib.column_type(row, C_ORG) == SQLITE_NULL) {
            /* no actor: `"actor":null`, and no user (a user with no org: the exact pass) */
            if (lib.column_type(row, C_USER) != SQLITE_NULL ||
                !holds(body, length, &from, "\"actor\":", row, C_ORG, 0, &columns[8]))
                goto done;
        } else if (!holds(body, length, &from, "\"org\":", row, C_ORG, 1, &columns[0]) ||
                   !holds(body, length, &from, "\"user\":", row, C_USER, 1, &columns[1])) {
            goto done; /* an actor's org, and its user or `"user":null` */
        }
        if (!holds(body, length, &from, "\"area\":", row, C_AREA, 0, &columns[2]) ||
            !holds(body, length, &from, "\"decision\":", row, C_DECISION, 0, &columns[3]) ||
            !holds(body, length, &from, "\"event\":", row, C_EVENT, 0, &columns[4]) ||
            !holds(body, length, &from, "\"person\":", row, C_PERSON, 1, &columns[5]) ||
            !holds(body, length, &from, "\"purpose\":", row, C_PURPOSE, 0, &columns[6]) ||
            !holds(body, length, &from, "\"owner\":", row, C_OWNER, 1, &columns[7]))
            goto done;
        unsigned char *leaf = leaves + seen * HASH_LEN;
        if (!digest(ctx, md, 0x00, body, (size_t)length, NULL, 0, leaf))
            goto done;
        to_hex(leaf, prev_hex);
        seen++;
    }
    if (seen != count)
        goto done;
    /* the levels of the subtree: each node over a pair of the level below */
    out->levels = 1;
    out->level_start[0] = 0;
    out->level_count[0] = count;
    while (out->level_count[out->levels - 1] > 1) {
        int below = out->levels - 1;
        Py_ssize_t n = out->level_count[below] / 2;
        Py_ssize_t start = out->level_start[below] + out->level_count[below];
        const unsigned char *from = out->nodes + out->level_start[below] * HASH_LEN;
        unsigned char *to = out->nodes + start * HASH_LEN;
        for (Py_ssize_t i = 0; i < n; i++)
            if (!digest(ctx, md, 0x01, from + 2 * i * HASH_LEN, HASH_LEN,
                        from + (2 * i + 1) * HASH_LEN, HASH_LEN, to + i * HASH_LEN))
                goto done;
        out->level_start[out->levels] = start;
        out->level_count[out->levels] = n;
        out->levels++;
    }
    ok = 1;
done:
    lib.finalize(row);
    lib.close(db);
    EVP_MD_free(md);
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* bind(path): take the SQLite functions from the shared object at `path` (the `_sqlite3`
   extension module, already loaded) and the libraries it was linked with. True if all were
   found; scan refuses to run before. */
static PyObject *bind(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *path_object;
    if (!PyArg_ParseTuple(args, "O&", PyUnicode_FSConverter, &path_object))
        return NULL;
    void *handle = dlopen(PyBytes_AS_STRING(path_object), RTLD_NOW | RTLD_NOLOAD);
    Py_DECREF(path_object);
    if (handle == NULL)
        Py_RETURN_FALSE;
    void **slots = (void **)&lib;
    static const char *const names[] = {
        "sqlite3_open_v2",      "sqlite3_busy_timeout", "sqlite3_prepare_v2",
        "sqlite3_bind_int64",   "sqlite3_step",         "sqlite3_column_type",
        "sqlite3_column_int64", "sqlite3_column_blob",  "sqlite3_column_text",
        "sqlite3_column_bytes", "sqlite3_finalize",     "sqlite3_close",
    };
    _Static_assert(sizeof lib == sizeof names / sizeof names[0] * sizeof(void *),
                   "one name per function of lib");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        /* dlsym gives a data pointer; POSIX guarantees it converts to the function's */
        void *found = dlsym(handle, names[i]);
        if (found == NULL) {
            bound = 0;
            Py_RETURN_FALSE;
        }
        slots[i] = found;
    }
    bound = 1; /* the handle stays open: the module it names is never unloaded */
    Py_RETURN_TRUE;
}

static PyObject *scan(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *path_object;
    long long lo, hi;
    if (!PyArg_ParseTuple(args, "O&LL", PyUnicode_FSConverter, &path_object, &lo, &hi))
        return NULL;
    long long count = hi - lo;
    if (!bound) {
        Py_DECREF(path_object);
        PyErr_SetString(PyExc_RuntimeError, "bind() first: no SQLite library to read with");
        return NULL;
    }
    if (lo < 0 || count < 1 || count > (1LL << 40)) {
        Py_DECREF(path_object);
        PyErr_SetString(PyExc_ValueError, "scan needs 0 <= lo < hi");
        return NULL;
    }
    Scan result = {0};
    /* a subtree of count leaves has fewer than 2 * count nodes */
    result.nodes = PyMem_RawMalloc((size_t)(2 * count) * HASH_LEN);
    if (result.nodes == NULL) {
        Py_DECREF(path_object);
        return PyErr_NoMemory();
    }
    int ok;
    Py_BEGIN_ALLOW_THREADS
    ok = scan_chunk(PyBytes_AS_STRING(path_object), lo, count, &result);
    Py_END_ALLOW_THREADS
    Py_DECREF(path_object);
    PyObject *answer = NULL;
    if (!ok) {
        answer = Py_NewRef(Py_None);
        goto done;
    }
    PyObject *levels = PyList_New(result.levels);
    if (levels == NULL)
        goto done;
    for (int k = 0; k < result.levels; k++) {
        PyObject *level = PyBytes_FromStringAndSize(
            (const char *)result.nodes + result.level_start[k] * HASH_LEN,
            result.level_count[k] * HASH_LEN);
        if (level == NULL) {
            Py_DECREF(levels);
            goto done;
        }
        PyList_SET_ITEM(levels, k, level);
    }
    answer = Py_BuildValue("(Ny#)", levels, result.claim, (Py_ssize_t)result.claim_len);
done:
    PyMem_RawFree(result.nodes);
    return answer;
}


static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS,
     "scan(path, lo, hi) -> (levels, first_claim) | None: the bulk pass over entries lo..hi-1."},
    {"bind", bind, METH_VARARGS,
     "bind(path) -> bool: read with the SQLite library of the loaded module at path."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_fastscan",
    "The bulk pass of `databank audit verify` over an SQLite log, in C.", -1, methods,
};

PyMODINIT_FUNC PyInit__fastscan(void) { return PyModule_Create(&module); }
