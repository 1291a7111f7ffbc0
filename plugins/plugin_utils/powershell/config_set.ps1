# airgap.wsus host script
# operation: config_set
# input: DownloadExpressPackages?, AllUpdateLanguagesEnabled?, EnabledUpdateLanguages?
# output: changed, before, after

# Sets the options Microsoft's procedure requires to match on both servers (express
# installation files, update languages) and saves the configuration only when a value
# differs. Save() validates the whole configuration; its refusals (no language enabled, a
# synchronization running, ...) are thrown as they come. The controller plans the call and
# never sends it in check mode.
[CmdletBinding()]
param(
    [bool]$DownloadExpressPackages,
    [bool]$AllUpdateLanguagesEnabled,
    [AllowEmptyCollection()][string[]]$EnabledUpdateLanguages
)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$SetupKey = 'HKLM:\SOFTWARE\Microsoft\Update Services\Server\Setup'

function Import-WsusApi {
    if ('Microsoft.UpdateServices.Administration.AdminProxy' -as [type]) { return }
    $targetDir = $null
    if (Test-Path -LiteralPath $SetupKey) { $targetDir = [string](Get-Item -LiteralPath $SetupKey).GetValue('TargetDir', '') }
    $dll = $null
    if ($targetDir) { $dll = Join-Path -Path $targetDir -ChildPath 'Api\Microsoft.UpdateServices.Administration.dll' }
    if ($dll -and (Test-Path -LiteralPath $dll -PathType Leaf)) {
        Add-Type -LiteralPath $dll
    }
    else {
        Add-Type -AssemblyName 'Microsoft.UpdateServices.Administration'
    }
}

function Get-Snapshot {
    param([object]$Config)
    $languages = New-Object -TypeName System.Collections.Generic.List[string]
    foreach ($language in $Config.GetEnabledUpdateLanguages()) { $languages.Add(([string]$language).ToLowerInvariant()) }
    $languages.Sort([System.StringComparer]::Ordinal)
    return [ordered]@{
        download_express_packages = [bool]$Config.DownloadExpressPackages
        all_update_languages_enabled = [bool]$Config.AllUpdateLanguagesEnabled
        enabled_update_languages = $languages.ToArray()
    }
}

function Test-SameSet {
    param([string[]]$Left, [string[]]$Right)
    $a = New-Object -TypeName 'System.Collections.Generic.HashSet[string]' -ArgumentList ([System.StringComparer]::OrdinalIgnoreCase)
    $b = New-Object -TypeName 'System.Collections.Generic.HashSet[string]' -ArgumentList ([System.StringComparer]::OrdinalIgnoreCase)
    foreach ($item in @($Left)) { if ($item) { [void]$a.Add($item) } }
    foreach ($item in @($Right)) { if ($item) { [void]$b.Add($item) } }
    return $a.SetEquals($b)
}

Import-WsusApi
$server = [Microsoft.UpdateServices.Administration.AdminProxy]::GetUpdateServer()
$config = $server.GetConfiguration()
$before = Get-Snapshot -Config $config
$dirty = $false

if ($PSBoundParameters.ContainsKey('DownloadExpressPackages') -and $before.download_express_packages -ne $DownloadExpressPackages) {
    $config.DownloadExpressPackages = $DownloadExpressPackages
    $dirty = $true
}
if ($PSBoundParameters.ContainsKey('AllUpdateLanguagesEnabled') -and $before.all_update_languages_enabled -ne $AllUpdateLanguagesEnabled) {
    $config.AllUpdateLanguagesEnabled = $AllUpdateLanguagesEnabled
    $dirty = $true
}
if ($PSBoundParameters.ContainsKey('EnabledUpdateLanguages') -and -not (Test-SameSet -Left $before.enabled_update_languages -Right $EnabledUpdateLanguages)) {
    $collection = New-Object -TypeName System.Collections.Specialized.StringCollection
    foreach ($language in @($EnabledUpdateLanguages)) { [void]$collection.Add($language.ToLowerInvariant()) }
    $config.SetEnabledUpdateLanguages($collection)
    $dirty = $true
}

$after = $before
if ($dirty) {
    $config.Save()
    # Read back what the server now holds rather than echoing what was asked for.
    $after = Get-Snapshot -Config $server.GetConfiguration()
}

return [ordered]@{
    changed = $dirty
    before = $before
    after = $after
}
