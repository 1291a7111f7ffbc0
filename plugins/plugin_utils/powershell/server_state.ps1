# airgap.wsus host script
# operation: server_state
# input:
# output: computer_name, account, registry, service, config, subscription, content_drive, status

# Reads what the controller needs to know about a WSUS server. Changes nothing: in particular
# it never calls Save() on the configuration (a popular community module regenerates ServerId
# and saves inside its "Get" functions). Failures of the UpdateServices API (service stopped,
# WSUS not installed) are reported as data in config.error, not thrown.
[CmdletBinding()]
param()
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$SetupKey = 'HKLM:\SOFTWARE\Microsoft\Update Services\Server\Setup'
$Invariant = [System.Globalization.CultureInfo]::InvariantCulture

function ConvertTo-IsoUtc {
    param([object]$Value)
    if ($null -eq $Value) { return $null }
    $date = [datetime]$Value
    # The API reports DateTime.MinValue for "never"; below year 1900 means no date.
    if ($date.Year -lt 1900) { return $null }
    # WSUS documents its times as UTC; a value without a kind is therefore UTC already.
    if ($date.Kind -eq [System.DateTimeKind]::Unspecified) { $date = [datetime]::SpecifyKind($date, [System.DateTimeKind]::Utc) }
    return $date.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ss.fffZ', $Invariant)
}

function Get-Prop {
    # Reads a property that older API versions may lack without tripping strict mode.
    param([object]$InputObject, [string]$Name)
    if ($null -eq $InputObject) { return $null }
    $property = $InputObject.PSObject.Properties[$Name]
    if ($null -eq $property) { return $null }
    return $property.Value
}

function Get-Account {
    $identity = [System.Security.Principal.WindowsIdentity]::GetCurrent()
    $principal = New-Object -TypeName System.Security.Principal.WindowsPrincipal -ArgumentList $identity
    # IsInRole reflects the token actually in use: a UAC-filtered remote token is not admin.
    return [ordered]@{
        name = $identity.Name
        sid = $identity.User.Value
        is_admin = $principal.IsInRole([System.Security.Principal.WindowsBuiltInRole]::Administrator)
    }
}

function Get-SetupRegistry {
    $result = [ordered]@{
        installed = $false
        content_dir = $null
        target_dir = $null
        sql_server_name = $null
        sql_database_name = $null
        port_number = $null
        using_ssl = $null
    }
    if (-not (Test-Path -LiteralPath $SetupKey)) { return $result }
    $key = Get-Item -LiteralPath $SetupKey
    $result.installed = $true
    $result.content_dir = [string]$key.GetValue('ContentDir', '')
    $result.target_dir = [string]$key.GetValue('TargetDir', '')
    $result.sql_server_name = [string]$key.GetValue('SqlServerName', '')
    $result.sql_database_name = [string]$key.GetValue('SqlDatabaseName', '')
    $port = $key.GetValue('PortNumber', $null)
    if ($null -ne $port) { $result.port_number = [int]$port }
    $ssl = $key.GetValue('UsingSSL', $null)
    if ($null -ne $ssl) { $result.using_ssl = ([int]$ssl -ne 0) }
    return $result
}

function Get-WsusServiceInfo {
    $service = Get-Service -Name 'WsusService' -ErrorAction SilentlyContinue
    if ($null -eq $service) {
        return [ordered]@{ name = 'WsusService'; exists = $false; status = $null; start_type = $null }
    }
    return [ordered]@{
        name = 'WsusService'
        exists = $true
        status = [string]$service.Status
        start_type = [string](Get-Prop $service 'StartType')
    }
}

function Get-DriveFacts {
    param([string]$Path)
    $facts = [ordered]@{
        content_dir = $Path
        content_dir_exists = $false
        wsus_content_exists = $false
        root = $null
        free_bytes = $null
        total_bytes = $null
        file_system = $null
        drive_type = $null
    }
    if (-not $Path) { return $facts }
    $facts.content_dir_exists = Test-Path -LiteralPath $Path -PathType Container
    $facts.wsus_content_exists = Test-Path -LiteralPath (Join-Path -Path $Path -ChildPath 'WsusContent') -PathType Container
    $root = [System.IO.Path]::GetPathRoot($Path)
    $facts.root = $root
    if ($root -match '^[A-Za-z]:\\$') {
        $drive = New-Object -TypeName System.IO.DriveInfo -ArgumentList $root
        $facts.drive_type = ([string]$drive.DriveType).ToLowerInvariant()
        if ($drive.IsReady) {
            $facts.free_bytes = [long]$drive.AvailableFreeSpace
            $facts.total_bytes = [long]$drive.TotalSize
            $facts.file_system = $drive.DriveFormat
        }
    }
    return $facts
}

function Get-TitleList {
    # Returns the List itself (the comma stops PowerShell from unrolling it). Callers take
    # .ToArray(), a plain array: an array that went through the pipeline may come back wrapped
    # in a PSObject, which Windows PowerShell's ConvertTo-Json writes as {"value":[...],"Count":n}.
    param([object]$Collection)
    $titles = [System.Collections.Generic.List[string]]::new()
    if ($null -ne $Collection) {
        foreach ($item in $Collection) { $titles.Add([string]$item.Title) }
    }
    $titles.Sort([System.StringComparer]::OrdinalIgnoreCase)
    return , $titles
}

function Import-WsusApi {
    param([string]$TargetDir)
    if ('Microsoft.UpdateServices.Administration.AdminProxy' -as [type]) { return }
    $dll = $null
    if ($TargetDir) { $dll = Join-Path -Path $TargetDir -ChildPath 'Api\Microsoft.UpdateServices.Administration.dll' }
    if ($dll -and (Test-Path -LiteralPath $dll -PathType Leaf)) {
        Add-Type -LiteralPath $dll
    }
    else {
        Add-Type -AssemblyName 'Microsoft.UpdateServices.Administration'
    }
}

function Get-ConfigFacts {
    param([object]$Server)
    $config = $Server.GetConfiguration()
    $languages = New-Object -TypeName System.Collections.Generic.List[string]
    foreach ($language in $config.GetEnabledUpdateLanguages()) { $languages.Add(([string]$language).ToLowerInvariant()) }
    $languages.Sort([System.StringComparer]::Ordinal)
    $serverId = Get-Prop $config 'ServerId'
    return [ordered]@{
        available = $true
        error = $null
        version = [string]$Server.Version
        server_id = $(if ($null -ne $serverId) { ([string]$serverId).ToUpperInvariant() } else { $null })
        download_express_packages = [bool]$config.DownloadExpressPackages
        all_update_languages_enabled = [bool]$config.AllUpdateLanguagesEnabled
        enabled_update_languages = $languages.ToArray()
        download_update_binaries_as_needed = [bool]$config.DownloadUpdateBinariesAsNeeded
        host_binaries_on_microsoft_update = [bool]$config.HostBinariesOnMicrosoftUpdate
        get_content_from_mu = [bool](Get-Prop $config 'GetContentFromMU')
        is_replica_server = [bool]$config.IsReplicaServer
        sync_from_microsoft_update = [bool]$config.SyncFromMicrosoftUpdate
        upstream_wsus_server_name = [string]$config.UpstreamWsusServerName
        upstream_wsus_server_port_number = [int]$config.UpstreamWsusServerPortNumber
        upstream_wsus_server_use_ssl = [bool]$config.UpstreamWsusServerUseSsl
        use_proxy = [bool]$config.UseProxy
        proxy_name = [string]$config.ProxyName
        proxy_server_port = [int]$config.ProxyServerPort
        local_content_cache_path = [string]$config.LocalContentCachePath
    }
}

function Get-SubscriptionFacts {
    param([object]$Server)
    $subscription = $Server.GetSubscription()
    $lastResult = $null
    try {
        $info = $subscription.GetLastSynchronizationInfo()
        if ($null -ne $info) { $lastResult = [string]$info.Result }
    }
    catch {
        # A server that never synchronized has no last-synchronization record.
        $lastResult = $null
    }
    $timeOfDay = Get-Prop $subscription 'SynchronizeAutomaticallyTimeOfDay'
    return [ordered]@{
        synchronize_automatically = [bool]$subscription.SynchronizeAutomatically
        last_synchronization_time = ConvertTo-IsoUtc (Get-Prop $subscription 'LastSynchronizationTime')
        synchronization_status = [string]$subscription.GetSynchronizationStatus()
        last_synchronization_result = $lastResult
        products = (Get-TitleList $subscription.GetUpdateCategories()).ToArray()
        classifications = (Get-TitleList $subscription.GetUpdateClassifications()).ToArray()
        schedule = [ordered]@{
            synchronize_automatically = [bool]$subscription.SynchronizeAutomatically
            time_of_day = $(if ($null -ne $timeOfDay) { ([timespan]$timeOfDay).ToString('c') } else { $null })
            number_of_synchronizations_per_day = [int](Get-Prop $subscription 'NumberOfSynchronizationsPerDay')
        }
    }
}

function Get-StatusFacts {
    param([object]$Server)
    $progress = $Server.GetContentDownloadProgress()
    $status = $Server.GetStatus()
    return [ordered]@{
        updates_needing_files_count = [int](Get-Prop $status 'UpdatesNeedingFilesCount')
        downloaded_bytes = [long](Get-Prop $progress 'DownloadedBytes')
        total_bytes_to_download = [long](Get-Prop $progress 'TotalBytesToDownload')
    }
}

$registry = Get-SetupRegistry
$config = $null
$subscription = $null
$status = $null
if ($registry.installed) {
    try {
        Import-WsusApi -TargetDir $registry.target_dir
        $server = [Microsoft.UpdateServices.Administration.AdminProxy]::GetUpdateServer()
        $config = Get-ConfigFacts -Server $server
        $subscription = Get-SubscriptionFacts -Server $server
        try {
            $status = Get-StatusFacts -Server $server
        }
        catch {
            # Status is a convenience; a slow or failing summary must not hide the configuration.
            $status = [ordered]@{ error = $_.Exception.Message }
        }
    }
    catch {
        $config = [ordered]@{ available = $false; error = $_.Exception.Message; error_type = $_.Exception.GetType().FullName }
    }
}
else {
    $config = [ordered]@{ available = $false; error = 'WSUS is not installed (no Update Services Setup registry key)'; error_type = $null }
}

$contentDir = $registry.content_dir
if (-not $contentDir -and $null -ne $config -and $config.Contains('local_content_cache_path')) {
    $contentDir = Split-Path -Path $config.local_content_cache_path -Parent
}

return [ordered]@{
    computer_name = $env:COMPUTERNAME
    account = Get-Account
    registry = $registry
    service = Get-WsusServiceInfo
    config = $config
    subscription = $subscription
    content_drive = Get-DriveFacts -Path $contentDir
    status = $status
}
