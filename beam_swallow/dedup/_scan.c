/* MinHash's scan from text to window hashes, in one pass over the code points.
 *
 * The definition lives in minhash.py (module docstring and text_window_hashes);
 * tests/test_dedup_minhash.py checks this scan against it in plain Python ints.
 * In C because the array version paid ~10 passes over each text and its
 * temporaries, 3.5x the time of this loop (BENCHMARKS.md, dedup), and a JIT
 * compiler costs each worker process a second and ~120 MB before its first
 * document. All arithmetic is uint64_t, which wraps modulo 2**64 as the
 * definition does.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

enum { SPACE = 0, WORD = 1, SYMBOL = 2 };
enum { CODE_POINTS = 0x110000 };

static const uint64_t CHAR_BASE = 0x9E3779B97F4A7C15ULL;
static const uint64_t POLY = 0x100000001B3ULL;
static const uint64_t MIX1 = 0xBF58476D1CE4E5B9ULL;
static const uint64_t MIX2 = 0x94D049BB133111EBULL;

/* Token codes of text into codes (room for one per character); returns the count. */
static Py_ssize_t token_codes(int kind, const void *data, Py_ssize_t length,
                              const uint8_t *classes, uint64_t *codes) {
    Py_ssize_t count = 0, run = 0;
    uint64_t code = 0, power = 1;
    for (Py_ssize_t i = 0; i < length; i++) {
        Py_UCS4 point = PyUnicode_READ(kind, data, i);
        uint8_t cls = classes[point];
        if (cls == WORD) {
            code += (uint64_t)point * power;
            power *= CHAR_BASE;
            run++;
            continue;
        }
        if (run) {
            codes[count++] = code + (uint64_t)run;
            code = 0, power = 1, run = 0;
        }
        if (cls == SYMBOL) {
            codes[count++] = (uint64_t)point + 1;
        }
    }
    if (run) {
        codes[count++] = code + (uint64_t)run;
    }
    return count;
}

/* The high 32 bits of each window's finalized Horner polynomial. */
static void windows(const uint64_t *codes, Py_ssize_t width, Py_ssize_t count, uint32_t *out) {
    for (Py_ssize_t start = 0; start < count; start++) {
        uint64_t h = codes[start];
        for (Py_ssize_t offset = 1; offset < width; offset++) {
            h = h * POLY + codes[start + offset];
        }
        h ^= h >> 30;
        h *= MIX1;
        h ^= h >> 27;
        h *= MIX2;
        h ^= h >> 31;
        out[start] = (uint32_t)(h >> 32);
    }
}

static PyObject *window_hashes(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *text;
    Py_buffer classes;
    Py_ssize_t shingle_size;
    if (!PyArg_ParseTuple(args, "Uy*n", &text, &classes, &shingle_size)) {
        return NULL;
    }
    if (classes.len != CODE_POINTS || shingle_size <= 0) {
        PyBuffer_Release(&classes);
        return PyErr_Format(PyExc_ValueError,
                            "need one class per code point and a positive shingle size");
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    uint64_t *codes = PyMem_RawMalloc((size_t)(length ? length : 1) * sizeof(uint64_t));
    if (codes == NULL) {
        PyBuffer_Release(&classes);
        return PyErr_NoMemory();
    }
    Py_ssize_t count;
    /* a str is immutable and held by args, so its characters can be read without the GIL */
    Py_BEGIN_ALLOW_THREADS
    count = token_codes(PyUnicode_KIND(text), PyUnicode_DATA(text), length,
                        (const uint8_t *)classes.buf, codes);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&classes);
    Py_ssize_t width = count < shingle_size ? count : shingle_size;
    Py_ssize_t total = count ? count - width + 1 : 0;
    PyObject *out = PyByteArray_FromStringAndSize(NULL, total * (Py_ssize_t)sizeof(uint32_t));
    if (out != NULL) {
        uint32_t *hashes = (uint32_t *)PyByteArray_AS_STRING(out);
        Py_BEGIN_ALLOW_THREADS
        windows(codes, width, total, hashes);
        Py_END_ALLOW_THREADS
    }
    PyMem_RawFree(codes);
    return out;
}

static PyMethodDef methods[] = {
    {"window_hashes", window_hashes, METH_VARARGS,
     "window_hashes(text, classes, shingle_size) -> bytearray of native uint32 window hashes.\n\n"
     "classes: one byte per code point (0 space, 1 word, 2 symbol), 0x110000 bytes."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_scan",
    .m_doc = "MinHash's one-pass scan from text to window hashes.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__scan(void) {
    PyObject *m = PyModule_Create(&module);
    if (m == NULL || PyModule_AddIntConstant(m, "SPACE", SPACE) < 0 ||
        PyModule_AddIntConstant(m, "WORD", WORD) < 0 ||
        PyModule_AddIntConstant(m, "SYMBOL", SYMBOL) < 0 ||
        PyModule_AddIntConstant(m, "CODE_POINTS", CODE_POINTS) < 0) {
        Py_XDECREF(m);
        return NULL;
    }
    return m;
}
