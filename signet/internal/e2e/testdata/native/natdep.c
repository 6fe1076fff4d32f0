/* A shared library that the test extension needs: found through the extension's RUNPATH
   ($ORIGIN/../natlibs), as libraries that wheels vendor beside their extensions are. */
int natdep_value(void) { return 42; }
