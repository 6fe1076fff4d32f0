"""Public API of the signet rules: seal a Python app into tamper-resistant loaders.

```starlark
load("@signet//rules:defs.bzl", "SignetLoaderInfo", "signet_loader")
```
"""

load("//rules/private:loader.bzl", _signet_loader = "signet_loader")
load("//rules/private:providers.bzl", _SignetLoaderInfo = "SignetLoaderInfo")

signet_loader = _signet_loader
SignetLoaderInfo = _SignetLoaderInfo
