/* A CPython extension module of the stable ABI (abi3, 3.11+), declared by hand so that it
   builds without Python's headers. */
typedef long Py_ssize_t;
typedef struct PyObject { Py_ssize_t ob_refcnt; void *ob_type; } PyObject;
typedef PyObject *(*PyCFunction)(PyObject *, PyObject *);
typedef struct { const char *ml_name; PyCFunction ml_meth; int ml_flags; const char *ml_doc; } PyMethodDef;
typedef struct { PyObject ob_base; PyObject *(*m_init)(void); Py_ssize_t m_index; PyObject *m_copy; } PyModuleDef_Base;
typedef struct { PyModuleDef_Base m_base; const char *m_name; const char *m_doc; Py_ssize_t m_size;
  PyMethodDef *m_methods; void *m_slots; void *m_traverse; void *m_clear; void *m_free; } PyModuleDef;
extern PyObject *PyModule_Create2(PyModuleDef *, int);
extern PyObject *PyLong_FromLong(long);
extern int natdep_value(void);
static PyObject *value(PyObject *self, PyObject *unused) { return PyLong_FromLong(natdep_value()); }
static PyMethodDef methods[] = {{"value", value, 0x0004 /* METH_NOARGS */, 0}, {0, 0, 0, 0}};
static PyModuleDef def = {{{1, 0}, 0, 0, 0}, "_natext", 0, -1, methods, 0, 0, 0, 0};
PyObject *PyInit__natext(void) { return PyModule_Create2(&def, 1013 /* PYTHON_ABI_VERSION 3 */); }
