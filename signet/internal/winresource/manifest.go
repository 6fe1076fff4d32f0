package winresource

// Manifest is the application manifest Apply writes (RT_MANIFEST, ID 1, en-US). It
//   - runs the loader with the caller's rights (asInvoker): no elevation prompt, and no
//     installer-detection heuristics or file and registry virtualization;
//   - declares Windows 10 and 11 (the oldest Windows Go supports), so no compatibility shims
//     apply;
//   - opts in to paths longer than MAX_PATH (still subject to the system's LongPathsEnabled
//     setting);
//   - makes UTF-8 the process's active code page (Windows 10 1903 and later), so that any
//     ANSI API the loader reaches sees UTF-8.
const Manifest = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<assembly xmlns="urn:schemas-microsoft-com:asm.v1" manifestVersion="1.0">
  <compatibility xmlns="urn:schemas-microsoft-com:compatibility.v1">
    <application>
      <supportedOS Id="{8e0f7a12-bfb3-4fe8-b9a5-48fd50a15a9a}"/>
    </application>
  </compatibility>
  <application xmlns="urn:schemas-microsoft-com:asm.v3">
    <windowsSettings>
      <longPathAware xmlns="http://schemas.microsoft.com/SMI/2016/WindowsSettings">true</longPathAware>
      <activeCodePage xmlns="http://schemas.microsoft.com/SMI/2019/WindowsSettings">UTF-8</activeCodePage>
    </windowsSettings>
  </application>
  <trustInfo xmlns="urn:schemas-microsoft-com:asm.v3">
    <security>
      <requestedPrivileges>
        <requestedExecutionLevel level="asInvoker" uiAccess="false"/>
      </requestedPrivileges>
    </security>
  </trustInfo>
</assembly>
`
