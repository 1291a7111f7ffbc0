# airgap.wsus host script
# operation: job_runner
# input: JobDir
# output: -

# The detached worker. job_start writes this script into the job folder as runner.ps1 and
# starts it through Win32_Process Create; it is never sent through the bootstrap. It runs the
# steps of job.json in order, each with System.Diagnostics.Process through Start-Process
# (the argument string goes to CreateProcess exactly as the controller quoted it; no shell is
# involved), stdout to stepN.out and stderr to stepN.err, and records every transition in
# state.json (written atomically). It stops after the first step whose exit code exceeds the
# step's max_success_code, or that could not start. Judging exit codes is the controller's
# job; the runner only records them.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$JobDir
)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$Invariant = [System.Globalization.CultureInfo]::InvariantCulture
$Utf8 = New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false
$StatePath = Join-Path -Path $JobDir -ChildPath 'state.json'

function Get-IsoNow { return [datetime]::UtcNow.ToString('yyyy-MM-ddTHH:mm:ss.fffZ', $Invariant) }

function Save-State {
    param([object]$State)
    $text = ConvertTo-Json -InputObject $State -Depth 6
    $temp = $StatePath + '.' + [guid]::NewGuid().ToString('N') + '.tmp'
    [System.IO.File]::WriteAllText($temp, $text, $Utf8)
    for ($attempt = 1; ; $attempt++) {
        try {
            if ([System.IO.File]::Exists($StatePath)) { [System.IO.File]::Replace($temp, $StatePath, $null) } else { [System.IO.File]::Move($temp, $StatePath) }
            return
        }
        catch [System.IO.IOException] {
            # A poll reading state.json at this instant; it holds the file for milliseconds.
            if ($attempt -ge 25) { throw }
            Start-Sleep -Milliseconds 200
        }
    }
}

$me = [System.Diagnostics.Process]::GetCurrentProcess()
$state = [ordered]@{
    state = 'running'
    runner_pid = $me.Id
    runner_start = $me.StartTime.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ss.fffZ', $Invariant)
    started_at = (Get-IsoNow)
    ended_at = $null
    current_step = -1
    error = $null
    steps = @()
}

try {
    $job = ConvertFrom-Json -InputObject ([System.IO.File]::ReadAllText((Join-Path -Path $JobDir -ChildPath 'job.json'), $Utf8))
    $steps = @($job.steps)
    $state.steps = @(foreach ($step in $steps) {
            [ordered]@{
                name = [string]$step.name
                state = 'pending'
                pid = $null
                process_start = $null
                exit_code = $null
                started_at = $null
                ended_at = $null
                error = $null
            }
        })
    Save-State -State $state

    for ($i = 0; $i -lt $steps.Count; $i++) {
        $step = $steps[$i]
        $record = $state.steps[$i]
        $record.state = 'running'
        $record.started_at = Get-IsoNow
        $state.current_step = $i
        Save-State -State $state
        $process = $null
        try {
            $start = @{
                FilePath = [string]$step.file
                WorkingDirectory = $JobDir
                RedirectStandardOutput = (Join-Path -Path $JobDir -ChildPath ('step' + $i + '.out'))
                RedirectStandardError = (Join-Path -Path $JobDir -ChildPath ('step' + $i + '.err'))
                NoNewWindow = $true
                PassThru = $true
            }
            # One string: Start-Process hands it to CreateProcess unchanged (no re-quoting).
            if ([string]$step.arguments) { $start.ArgumentList = [string]$step.arguments }
            $process = Start-Process @start
            # Reading Handle now keeps the process handle open, without which Windows
            # PowerShell reports no ExitCode once the process has ended.
            $null = $process.Handle
            $record.pid = $process.Id
            try { $record.process_start = $process.StartTime.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ss.fffZ', $Invariant) } catch { $record.process_start = $null }
            Save-State -State $state
            $process.WaitForExit()
            $record.exit_code = [int]$process.ExitCode
            $record.state = 'exited'
        }
        catch {
            $record.state = 'failed_to_start'
            $record.error = $_.Exception.Message
        }
        finally {
            if ($null -ne $process) { $process.Dispose() }
        }
        $record.ended_at = Get-IsoNow
        $failed = $record.state -ne 'exited' -or $record.exit_code -gt [int]$step.max_success_code
        if ($failed) {
            for ($j = $i + 1; $j -lt $steps.Count; $j++) { $state.steps[$j].state = 'skipped' }
            Save-State -State $state
            break
        }
        Save-State -State $state
    }
}
catch {
    $state.error = $_.Exception.Message
    [System.IO.File]::WriteAllText((Join-Path -Path $JobDir -ChildPath 'runner.err'), ($_ | Out-String), $Utf8)
}
finally {
    $state.state = 'exited'
    $state.current_step = -1
    $state.ended_at = Get-IsoNow
    Save-State -State $state
}
exit 0
