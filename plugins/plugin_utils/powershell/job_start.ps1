# airgap.wsus host script
# operation: job_start
# input: JobRoot, JobId, Steps, Runner, Files?
# output: job_id, job_dir, state, attached, pid, started_at

# Starts a detached job, or re-attaches to it. A process started inside a WinRM shell dies
# with the shell, so the runner is created by Win32_Process Create (through CIM): it belongs
# to no WinRM job object and outlives the connection. The job folder is
# <JobRoot>\jobs\<JobId>. Calling this again with the same JobId returns the running job, or
# the ended job that was never collected (attached = true); a collected job's folder is
# archived and the job starts anew. A lock file serialises concurrent calls for one JobId.
#
# The runner's command line is constant: powershell.exe -EncodedCommand with a launcher that
# reads runner.ps1 from its current directory, which Create sets to the job folder. No value
# from the caller is part of it, and -EncodedCommand is honoured where a machine policy
# (AllSigned) would refuse to run the unsigned runner.ps1 as a file.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$JobRoot,
    [Parameter(Mandatory = $true)][string]$JobId,
    [Parameter(Mandatory = $true)][object[]]$Steps,
    [Parameter(Mandatory = $true)][string]$Runner,
    [AllowEmptyCollection()][object[]]$Files = @()
)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$Invariant = [System.Globalization.CultureInfo]::InvariantCulture
$Utf8 = New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false
$Utf8Bom = New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $true
$ReservedFiles = @('job.json', 'runner.ps1', 'state.json', 'launch.json', 'collected', 'runner.err')
$KeepArchives = 3
$Launcher = '$ErrorActionPreference = ''Stop''; $d = [System.Environment]::CurrentDirectory; & ([scriptblock]::Create([System.IO.File]::ReadAllText([System.IO.Path]::Combine($d, ''runner.ps1'')))) -JobDir $d'

function Get-IsoNow { return [datetime]::UtcNow.ToString('yyyy-MM-ddTHH:mm:ss.fffZ', $Invariant) }

function Get-Prop {
    param([object]$InputObject, [string]$Name)
    if ($null -eq $InputObject) { return $null }
    $property = $InputObject.PSObject.Properties[$Name]
    if ($null -eq $property) { return $null }
    return $property.Value
}

function Read-JsonFile {
    param([string]$Path)
    if (-not [System.IO.File]::Exists($Path)) { return $null }
    $share = [System.IO.FileShare]::ReadWrite -bor [System.IO.FileShare]::Delete
    for ($attempt = 1; ; $attempt++) {
        try {
            $stream = New-Object -TypeName System.IO.FileStream -ArgumentList $Path, ([System.IO.FileMode]::Open), ([System.IO.FileAccess]::Read), $share
            try {
                $reader = New-Object -TypeName System.IO.StreamReader -ArgumentList $stream, $Utf8
                $text = $reader.ReadToEnd()
            }
            finally {
                $stream.Dispose()
            }
            if (-not $text.Trim()) { return $null }
            return ConvertFrom-Json -InputObject $text
        }
        catch [System.IO.IOException] {
            if ($attempt -ge 5) { throw }
            Start-Sleep -Milliseconds 200
        }
    }
}

function Write-TextFile {
    param([string]$Path, [string]$Text, [System.Text.Encoding]$Encoding)
    $temp = $Path + '.' + [guid]::NewGuid().ToString('N') + '.tmp'
    [System.IO.File]::WriteAllText($temp, $Text, $Encoding)
    if ([System.IO.File]::Exists($Path)) {
        [System.IO.File]::Replace($temp, $Path, $null)
    }
    else {
        [System.IO.File]::Move($temp, $Path)
    }
}

function Get-ProcessStart {
    param([int]$ProcessId)
    try {
        $process = [System.Diagnostics.Process]::GetProcessById($ProcessId)
        try { return $process.StartTime.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ss.fffZ', $Invariant) } finally { $process.Dispose() }
    }
    catch {
        return $null
    }
}

function Test-ProcessAlive {
    # Windows reuses process ids: a live process only counts if it started when ours did.
    param([object]$ProcessId, [object]$StartedAt)
    if ($null -eq $ProcessId -or -not $StartedAt) { return $false }
    $actual = Get-ProcessStart -ProcessId ([int]$ProcessId)
    if ($null -eq $actual) { return $false }
    $delta = ([datetime]::Parse($actual, $Invariant) - [datetime]::Parse([string]$StartedAt, $Invariant)).Duration()
    return $delta.TotalSeconds -lt 2
}

function Get-JobStatus {
    param([string]$JobDir)
    $status = [ordered]@{ state = 'missing'; pid = $null; started_at = $null; collected = $false }
    if (-not [System.IO.File]::Exists((Join-Path -Path $JobDir -ChildPath 'job.json'))) { return $status }
    $launch = Read-JsonFile (Join-Path -Path $JobDir -ChildPath 'launch.json')
    $state = Read-JsonFile (Join-Path -Path $JobDir -ChildPath 'state.json')
    $status.collected = [System.IO.File]::Exists((Join-Path -Path $JobDir -ChildPath 'collected'))
    $runnerPid = Get-Prop $launch 'pid'
    $runnerStart = Get-Prop $launch 'process_start'
    if ($null -eq $runnerPid) {
        $runnerPid = Get-Prop $state 'runner_pid'
        $runnerStart = Get-Prop $state 'runner_start'
    }
    $status.pid = $runnerPid
    $status.started_at = Get-Prop $launch 'started_at'
    if (-not $status.started_at) { $status.started_at = Get-Prop $state 'started_at' }
    $recorded = [string](Get-Prop $state 'state')
    if ($recorded -eq 'exited' -or $recorded -eq 'cancelled') {
        $status.state = $recorded
    }
    elseif (Test-ProcessAlive -ProcessId $runnerPid -StartedAt $runnerStart) {
        $status.state = 'running'
    }
    else {
        $status.state = 'lost'
    }
    return $status
}

function Test-JobRoot {
    param([string]$Path)
    # A local drive path of plain characters: the runner and the job files live here, and a
    # network path would not be reachable from the runner's logon session.
    if ($Path -notmatch '^[A-Za-z]:\\[\p{L}\p{Nd} _.()\\-]*$') {
        throw "JobRoot '$Path' must be a local path such as C:\ProgramData\airgap.wsus made of letters, digits, spaces and . _ - ( )"
    }
    $full = [System.IO.Path]::GetFullPath($Path).TrimEnd('\')
    if ($full -ne $Path.TrimEnd('\')) { throw "JobRoot '$Path' is not a normalized absolute path (it resolves to '$full')" }
    return $full
}

function ConvertTo-StepRecord {
    param([object]$Step, [int]$Index)
    $name = [string](Get-Prop $Step 'name')
    $file = [string](Get-Prop $Step 'file')
    $arguments = Get-Prop $Step 'arguments'
    $maxSuccess = Get-Prop $Step 'max_success_code'
    $log = Get-Prop $Step 'log'
    if (-not $name) { throw "step $Index has no name" }
    if ($file -notmatch '^[A-Za-z]:\\' -or -not [System.IO.File]::Exists($file)) { throw "step $Index ($name): program '$file' is not an existing file given by its full path" }
    if ($null -eq $maxSuccess) { $maxSuccess = 0 }
    return [ordered]@{
        name = $name
        file = $file
        arguments = $(if ($null -eq $arguments) { '' } else { [string]$arguments })
        max_success_code = [int]$maxSuccess
        log = $(if ($log) { [string]$log } else { $null })
    }
}

if ($JobId -cnotmatch '^[0-9a-f]{16}$') { throw "JobId '$JobId' must be 16 lower-case hex digits" }
if ($Runner -notmatch '^# airgap\.wsus host script\r?\n# operation: job_runner\r?\n') { throw 'Runner is not the airgap.wsus job_runner script' }
$root = Test-JobRoot -Path $JobRoot
$records = New-Object -TypeName System.Collections.Generic.List[object]
for ($i = 0; $i -lt $Steps.Count; $i++) { $records.Add((ConvertTo-StepRecord -Step $Steps[$i] -Index $i)) }
if ($records.Count -eq 0) { throw 'a job needs at least one step' }
foreach ($extra in $Files) {
    $name = [string](Get-Prop $extra 'path')
    if ($name -notmatch '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' -or $ReservedFiles -contains $name.ToLowerInvariant() -or $name -match '^step\d+\.(out|err)$') {
        throw "job file name '$name' must be a plain file name that does not clash with the runner's own files"
    }
}

$jobsDir = Join-Path -Path $root -ChildPath 'jobs'
$jobDir = Join-Path -Path $jobsDir -ChildPath $JobId
[void][System.IO.Directory]::CreateDirectory($jobsDir)

$lockPath = Join-Path -Path $jobsDir -ChildPath ($JobId + '.lock')
$lock = $null
for ($attempt = 1; $null -eq $lock; $attempt++) {
    try {
        $lock = New-Object -TypeName System.IO.FileStream -ArgumentList $lockPath, ([System.IO.FileMode]::OpenOrCreate), ([System.IO.FileAccess]::ReadWrite), ([System.IO.FileShare]::None), 1, ([System.IO.FileOptions]::DeleteOnClose)
    }
    catch [System.IO.IOException] {
        if ($attempt -ge 50) { throw "another job_start for job $JobId has held its lock for 10 seconds" }
        Start-Sleep -Milliseconds 200
    }
}
try {
    if ([System.IO.Directory]::Exists($jobDir)) {
        $status = Get-JobStatus -JobDir $jobDir
        if ($status.state -eq 'running' -or ($status.state -ne 'missing' -and -not $status.collected)) {
            return [ordered]@{
                job_id = $JobId
                job_dir = $jobDir
                state = $status.state
                attached = $true
                pid = $status.pid
                started_at = $status.started_at
            }
        }
        # Collected, or a folder a failed start left without job.json: keep it as an archive.
        $stamp = [datetime]::UtcNow.ToString('yyyyMMddTHHmmssfffZ', $Invariant)
        [System.IO.Directory]::Move($jobDir, (Join-Path -Path $jobsDir -ChildPath ($JobId + '-' + $stamp)))
        $archives = @(Get-ChildItem -LiteralPath $jobsDir -Directory | Where-Object { $_.Name -like ($JobId + '-*') } | Sort-Object -Property Name -Descending)
        for ($i = $KeepArchives; $i -lt $archives.Count; $i++) { Remove-Item -LiteralPath $archives[$i].FullName -Recurse -Force }
    }

    [void][System.IO.Directory]::CreateDirectory($jobDir)
    foreach ($extra in $Files) {
        $bytes = [System.Convert]::FromBase64String([string](Get-Prop $extra 'content_b64'))
        [System.IO.File]::WriteAllBytes((Join-Path -Path $jobDir -ChildPath ([string](Get-Prop $extra 'path'))), $bytes)
    }
    Write-TextFile -Path (Join-Path -Path $jobDir -ChildPath 'runner.ps1') -Text $Runner -Encoding $Utf8Bom
    $job = [ordered]@{ job_id = $JobId; created_at = (Get-IsoNow); steps = $records.ToArray() }
    # job.json last: its presence marks a complete job folder.
    Write-TextFile -Path (Join-Path -Path $jobDir -ChildPath 'job.json') -Text (ConvertTo-Json -InputObject $job -Depth 5) -Encoding $Utf8

    $powershell = Join-Path -Path $PSHOME -ChildPath 'powershell.exe'
    $encoded = [System.Convert]::ToBase64String([System.Text.Encoding]::Unicode.GetBytes($Launcher))
    $commandLine = '"' + $powershell + '" -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ' + $encoded
    $startedAt = Get-IsoNow
    $created = Invoke-CimMethod -ClassName Win32_Process -MethodName Create -Arguments @{ CommandLine = $commandLine; CurrentDirectory = $jobDir }
    if ($created.ReturnValue -ne 0) { throw "Win32_Process.Create failed with code $($created.ReturnValue) starting the job runner" }
    $processId = [int]$created.ProcessId
    $launch = [ordered]@{ pid = $processId; process_start = (Get-ProcessStart -ProcessId $processId); started_at = $startedAt }
    Write-TextFile -Path (Join-Path -Path $jobDir -ChildPath 'launch.json') -Text (ConvertTo-Json -InputObject $launch) -Encoding $Utf8

    return [ordered]@{
        job_id = $JobId
        job_dir = $jobDir
        state = 'running'
        attached = $false
        pid = $processId
        started_at = $startedAt
    }
}
finally {
    $lock.Dispose()
}
