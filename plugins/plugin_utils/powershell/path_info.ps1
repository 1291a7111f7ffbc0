# airgap.wsus host script
# operation: path_info
# input: Paths
# output: paths

# Facts about each path: whether it exists, file or folder, its size, and the volume it is on
# (free and total bytes, file system, drive type). Volume facts are given even for a path that
# does not exist yet, from the volume its nearest existing folder is on, so the controller can
# check space before it creates anything. Drive-letter volumes are read with
# System.IO.DriveInfo; UNC shares (which DriveInfo refuses) with Scripting.FileSystemObject.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$Paths
)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$FsoDriveTypes = @{ 0 = 'unknown'; 1 = 'removable'; 2 = 'fixed'; 3 = 'network'; 4 = 'cdrom'; 5 = 'ram' }
$VolumeCache = @{}
# Functions share state through this table: assigning a variable inside a function would only
# create a local copy.
$Shared = @{ fso = $null }

function Get-VolumeFacts {
    param([string]$Path)
    $root = [System.IO.Path]::GetPathRoot($Path)
    if (-not $root) { return $null }
    $key = $root.ToUpperInvariant()
    if ($VolumeCache.ContainsKey($key)) { return $VolumeCache[$key] }
    $facts = [ordered]@{ free_bytes = $null; total_bytes = $null; file_system = $null; drive_type = $null }
    try {
        if ($root -match '^[A-Za-z]:\\?$') {
            $drive = New-Object -TypeName System.IO.DriveInfo -ArgumentList $root
            # DriveType names, lower-cased: fixed, removable, network, cdrom, ram, norootdirectory, unknown.
            $facts.drive_type = ([string]$drive.DriveType).ToLowerInvariant()
            if ($drive.IsReady) {
                $facts.free_bytes = [long]$drive.AvailableFreeSpace
                $facts.total_bytes = [long]$drive.TotalSize
                $facts.file_system = [string]$drive.DriveFormat
            }
        }
        else {
            if ($null -eq $Shared.fso) { $Shared.fso = New-Object -ComObject Scripting.FileSystemObject }
            $drive = $Shared.fso.GetDrive($Shared.fso.GetDriveName($Path))
            $facts.drive_type = $FsoDriveTypes[[int]$drive.DriveType]
            if ($drive.IsReady) {
                $facts.free_bytes = [long]$drive.AvailableSpace
                $facts.total_bytes = [long]$drive.TotalSize
                $facts.file_system = [string]$drive.FileSystem
            }
        }
    }
    catch {
        # An unreachable share or a drive that vanished: report no volume facts.
        $facts.drive_type = $null
    }
    $VolumeCache[$key] = $facts
    return $facts
}

$entries = New-Object -TypeName System.Collections.Generic.List[object]
foreach ($path in $Paths) {
    $entry = [ordered]@{
        path = $path
        exists = $false
        is_dir = $false
        size = $null
        free_bytes = $null
        total_bytes = $null
        file_system = $null
        drive_type = $null
    }
    if ([System.IO.File]::Exists($path)) {
        $entry.exists = $true
        $entry.size = [long](New-Object -TypeName System.IO.FileInfo -ArgumentList $path).Length
    }
    elseif ([System.IO.Directory]::Exists($path)) {
        $entry.exists = $true
        $entry.is_dir = $true
    }
    $volume = Get-VolumeFacts -Path $path
    if ($null -ne $volume) {
        foreach ($name in @('free_bytes', 'total_bytes', 'file_system', 'drive_type')) { $entry[$name] = $volume[$name] }
    }
    $entries.Add($entry)
}

return [ordered]@{
    paths = $entries.ToArray()
}
