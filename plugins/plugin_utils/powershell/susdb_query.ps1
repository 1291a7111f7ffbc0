# airgap.wsus host script
# operation: susdb_query
# input: Queries, Server?, Database?
# output: results, server, database

# Runs the collection's read-only SUSDB queries on the WSUS host, where the Windows Internal
# Database is reachable (it accepts only local connections, through a named pipe). Each query
# is {name, sql, params}: the SQL text comes from the collection's sql/*.sql files with its
# positional markers rewritten to @p0, @p1, ... and params bound as SqlParameters, never
# spliced into the text. Everything runs in one transaction that is rolled back, so even a
# faulty query could not change SUSDB. Binary values come back as upper-case hex strings,
# GUIDs as upper-case strings, DateTimes as ISO 8601 strings (SUSDB stores UTC).
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Queries,
    [string]$Server,
    [string]$Database
)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$SetupKey = 'HKLM:\SOFTWARE\Microsoft\Update Services\Server\Setup'
$WidPipe = 'np:\\.\pipe\MICROSOFT##WID\tsql\query'
$Invariant = [System.Globalization.CultureInfo]::InvariantCulture

function Get-Prop {
    param([object]$InputObject, [string]$Name)
    if ($null -eq $InputObject) { return $null }
    $property = $InputObject.PSObject.Properties[$Name]
    if ($null -eq $property) { return $null }
    return $property.Value
}

function ConvertTo-JsonValue {
    param([object]$Value)
    if ($null -eq $Value -or $Value -is [System.DBNull]) { return $null }
    if ($Value -is [byte[]]) { return [System.BitConverter]::ToString($Value).Replace('-', '') }
    if ($Value -is [guid]) { return $Value.ToString().ToUpperInvariant() }
    if ($Value -is [datetime]) { return $Value.ToString('yyyy-MM-ddTHH:mm:ss.fffZ', $Invariant) }
    if ($Value -is [System.DateTimeOffset]) { return $Value.UtcDateTime.ToString('yyyy-MM-ddTHH:mm:ss.fffZ', $Invariant) }
    if ($Value -is [timespan]) { return $Value.ToString('c') }
    return $Value
}

$setup = $null
if (Test-Path -LiteralPath $SetupKey) { $setup = Get-Item -LiteralPath $SetupKey }
$dataSource = $Server
if (-not $dataSource -and $null -ne $setup) { $dataSource = [string]$setup.GetValue('SqlServerName', '') }
if (-not $dataSource) { throw 'SUSDB location unknown: the Update Services Setup registry key has no SqlServerName. Is WSUS installed?' }
if ($dataSource -eq 'MICROSOFT##WID') { $dataSource = $WidPipe }
$databaseName = $Database
if (-not $databaseName -and $null -ne $setup) { $databaseName = [string]$setup.GetValue('SqlDatabaseName', '') }
if (-not $databaseName) { $databaseName = 'SUSDB' }

$builder = New-Object -TypeName System.Data.SqlClient.SqlConnectionStringBuilder
$builder['Data Source'] = $dataSource
$builder['Initial Catalog'] = $databaseName
$builder['Integrated Security'] = $true
$builder['Application Name'] = 'airgap.wsus'
$builder['Connect Timeout'] = 30
$builder['ApplicationIntent'] = 'ReadOnly'

$results = [ordered]@{}
$connection = New-Object -TypeName System.Data.SqlClient.SqlConnection -ArgumentList $builder.ConnectionString
$connection.Open()
$transaction = $null
try {
    $transaction = $connection.BeginTransaction([System.Data.IsolationLevel]::ReadCommitted)
    foreach ($query in $Queries) {
        $name = [string](Get-Prop $query 'name')
        $sql = [string](Get-Prop $query 'sql')
        if (-not $name -or -not $sql) { throw 'each query needs a name and sql' }
        $command = $connection.CreateCommand()
        $command.Transaction = $transaction
        $command.CommandText = $sql
        $command.CommandTimeout = 1800
        $values = @()
        $given = Get-Prop $query 'params'
        if ($null -ne $given) { $values = @($given) }
        for ($i = 0; $i -lt $values.Count; $i++) {
            $parameter = $command.CreateParameter()
            $parameter.ParameterName = '@p' + $i
            if ($null -eq $values[$i]) { $parameter.Value = [System.DBNull]::Value } else { $parameter.Value = $values[$i] }
            [void]$command.Parameters.Add($parameter)
        }
        $columns = New-Object -TypeName System.Collections.Generic.List[string]
        $rows = New-Object -TypeName System.Collections.Generic.List[object]
        $reader = $command.ExecuteReader()
        try {
            for ($c = 0; $c -lt $reader.FieldCount; $c++) { $columns.Add($reader.GetName($c)) }
            while ($reader.Read()) {
                $row = [object[]]::new($reader.FieldCount)
                for ($c = 0; $c -lt $reader.FieldCount; $c++) { $row[$c] = ConvertTo-JsonValue $reader.GetValue($c) }
                $rows.Add($row)
            }
        }
        finally {
            $reader.Dispose()
            $command.Dispose()
        }
        $results[$name] = [ordered]@{ columns = $columns.ToArray(); rows = $rows.ToArray() }
    }
}
finally {
    if ($null -ne $transaction) { $transaction.Rollback() }
    $connection.Dispose()
}

return [ordered]@{
    results = $results
    server = $dataSource
    database = $databaseName
}
