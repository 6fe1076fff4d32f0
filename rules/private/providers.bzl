"""Providers of the signet rules."""

SignetLoaderInfo = provider(
    doc = """The loaders a signet_loader target built, one per target platform.

Example: a rule that ships the Windows delivery of a loader:

```starlark
def _impl(ctx):
    loader = ctx.attr.loader[SignetLoaderInfo].loaders["windows/amd64"]
    return [DefaultInfo(files = depset([loader.delivery]))]
```
""",
    fields = {
        "loaders": "dict: target (\"linux/amd64\", \"windows/amd64\", ...) to a struct with " +
                   "`loader` (File: `hello` or `hello.exe`), `manifest` (File: its canonical " +
                   "manifest), `delivery` (File: tar of the loader and the app tree as installed), " +
                   "`target` (string), `app_files` (dict: app path to File, the sealed inputs of " +
                   "the app; a bundled runtime's files are in the delivery only) and `level` " +
                   "(string: `\"enforce\"` or `\"warn\"`).",
        "entry": "string: the app path of the entry script.",
    },
)
