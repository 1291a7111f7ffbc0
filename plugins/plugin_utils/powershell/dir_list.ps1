# airgap.wsus host script
# operation: dir_list
# input: Path
# output: path, exists, entries

# The immediate children of one folder: name, whether it is a folder, and a file's size. Used to
# find bundle folders on a medium without listing every file inside them. A path that is not a
# folder answers exists = false with no entries.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Path
)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$entries = New-Object -TypeName System.Collections.Generic.List[object]
$exists = [System.IO.Directory]::Exists($Path)
if ($exists) {
    $folder = New-Object -TypeName System.IO.DirectoryInfo -ArgumentList $Path
    foreach ($item in $folder.EnumerateFileSystemInfos()) {
        $isDir = ($item.Attributes -band [System.IO.FileAttributes]::Directory) -ne 0
        $size = $null
        if (-not $isDir) { $size = [long]$item.Length }
        $entries.Add(@($item.Name, $isDir, $size))
    }
}

return [ordered]@{
    path = $Path
    exists = $exists
    entries = $entries.ToArray()
}
