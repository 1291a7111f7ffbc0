# airgap.wsus bootstrap: runs one host script received on stdin as {"name","script","params"}.
# Sent as the command itself; each line is stripped by the encoder, so no here-strings.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$origin = 'bootstrap.ps1'
try {
    $line = foreach ($in in $input) { if ([string]$in) { [string]$in; break } }
    $payload = ConvertFrom-Json -InputObject $line
    $origin = [string]$payload.name + '.ps1'
    $splat = @{}
    foreach ($p in $payload.params.PSObject.Properties) { $splat[$p.Name] = $p.Value }
    $parseErrors = $null
    $ast = [System.Management.Automation.Language.Parser]::ParseInput([string]$payload.script, $origin, [ref]$null, [ref]$parseErrors)
    if ($parseErrors) { throw "$origin does not parse: line $($parseErrors[0].Extent.StartLineNumber): $($parseErrors[0].Message)" }
    $out = @(& $ast.GetScriptBlock() @splat)
    if ($out.Count -ne 1) { throw "$origin wrote $($out.Count) objects to the output instead of one result" }
    $json = ConvertTo-Json -InputObject $out[0] -Depth 20 -Compress
    $tag = 'AIRGAP-WSUS-RESULT:'
} catch {
    $info = $_.InvocationInfo
    $json = ConvertTo-Json -Compress -InputObject @{
        message = $_.Exception.Message
        type = $_.Exception.GetType().FullName
        script = $(if ($info -and $info.ScriptName) { Split-Path -Leaf $info.ScriptName } else { $origin })
        line = $(if ($info) { $info.ScriptLineNumber } else { 0 })
        category = [string]$_.CategoryInfo.Category
    }
    $tag = 'AIRGAP-WSUS-ERROR:'
}
$json = [regex]::Replace($json, '[^\x00-\x7F]', { param($m) '\u{0:x4}' -f [int][char]$m.Value })
$tag + $json
if ($tag -eq 'AIRGAP-WSUS-ERROR:') { exit 1 }
exit 0
