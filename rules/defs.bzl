"""Public API of the signet rules: seal a Python app into tamper-resistant loaders, sign them.

```starlark
load("@signet//rules:defs.bzl", "SignetLoaderInfo", "signet_loader", "signet_sign")
```
"""

load("//rules/private:loader.bzl", _signet_loader = "signet_loader")
load("//rules/private:providers.bzl", _SignetLoaderInfo = "SignetLoaderInfo")
load("//rules/private:sign.bzl", _signet_sign = "signet_sign")

signet_loader = _signet_loader
signet_sign = _signet_sign
SignetLoaderInfo = _SignetLoaderInfo
