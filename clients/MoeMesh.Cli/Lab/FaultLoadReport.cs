using System.Globalization;
using System.Text.Json.Serialization;

namespace MoeMesh.Cli.Lab;

/// <summary>One query of a fault-lab run: when it was sent and finished (Unix seconds), how many results it got, and why it failed.</summary>
public sealed record LabQuery(double SentAt, double EndedAt, int Completions, string? Failure)
{
    public bool Answered => Completions > 0;
}

/// <summary>A membership sample: how many silos the mesh listed as active at a moment (Unix seconds).</summary>
public sealed record MembershipSample(double At, int Active);

/// <summary>A moment the lab script marked: the fault itself, the heal of a partition, the store back.</summary>
public sealed record FaultMark(string Name, double At)
{
    /// <summary>Reads "name unix-seconds" lines; blank lines are skipped.</summary>
    public static IReadOnlyList<FaultMark> Read(string path)
        => File.ReadAllLines(path)
            .Where(l => !string.IsNullOrWhiteSpace(l))
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(p => p.Length == 2 && double.TryParse(p[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var at)
                ? new FaultMark(p[0], at)
                : throw new FormatException($"{path}: '{string.Join(' ', p)}' is not a line of the form \"name unix-seconds\""))
            .ToList();
}

/// <summary>
/// What one fault did to the query load. <see cref="DetectSeconds"/>: from the fault to the mesh's
/// membership showing it (a silo gone for kill and partition, one more for join; for store-restart,
/// until the store serves again). <see cref="RecoverSeconds"/>: from the fault (the heal, for a
/// partition; the store back, for store-restart) until the membership holds the expected silos again
/// and every query that was in flight at the fault or sent before it was detected has finished.
/// </summary>
public sealed record FaultLoadReport
{
    public required string Fault { get; init; }

    public int Sent { get; init; }

    public int Answered { get; init; }

    public int Failed { get; init; }

    public int Duplicates { get; init; }

    /// <summary>Null when the membership never showed the fault within the run.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public double? DetectSeconds { get; init; }

    /// <summary>Null when the mesh did not get back to the expected silos within the run.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public double? RecoverSeconds { get; init; }

    public int MembersBefore { get; init; }

    public int MembersAfter { get; init; }

    public double MaxLatencySeconds { get; init; }

    public IReadOnlyList<string> Errors { get; init; } = [];

    /// <summary>Works out the report from the queries, the membership samples and the marks.</summary>
    public static FaultLoadReport From(IReadOnlyList<LabQuery> queries, IReadOnlyList<MembershipSample> samples, IReadOnlyList<FaultMark> marks, int expectedSilos)
    {
        if (marks.Count == 0)
        {
            throw new FormatException("the marks file names no fault");
        }

        var fault = marks[0];
        var resumed = marks.FirstOrDefault(m => m.Name is "heal" or "ready")?.At ?? fault.At;
        var before = samples.LastOrDefault(s => s.At <= fault.At)?.Active ?? samples.FirstOrDefault()?.Active ?? 0;
        double? detectedAt = fault.Name switch
        {
            "kill" or "partition" => samples.FirstOrDefault(s => s.At >= fault.At && s.Active < before)?.At,
            "join" => samples.FirstOrDefault(s => s.At >= fault.At && s.Active > before)?.At,
            _ => resumed,
        };

        // The queries the fault could touch: in flight at the fault, or sent before the mesh noticed it.
        var horizon = Math.Max(detectedAt ?? fault.At, resumed);
        var touched = queries.Where(q => q.EndedAt >= fault.At && q.SentAt <= horizon).ToList();
        var settled = touched.Count == 0 ? fault.At : touched.Max(q => q.EndedAt);
        var full = samples.FirstOrDefault(s => s.At >= Math.Max(resumed, detectedAt ?? resumed) && s.Active == expectedSilos)?.At;
        double? recoveredAt = full is null ? null : Math.Max(full.Value, settled);
        return new FaultLoadReport
        {
            Fault = fault.Name,
            Sent = queries.Count,
            Answered = queries.Count(q => q.Answered),
            Failed = queries.Count(q => !q.Answered),
            Duplicates = queries.Sum(q => Math.Max(0, q.Completions - 1)),
            DetectSeconds = detectedAt is null ? null : Math.Round(detectedAt.Value - fault.At, 2),
            RecoverSeconds = recoveredAt is null ? null : Math.Round(recoveredAt.Value - resumed, 2),
            MembersBefore = before,
            MembersAfter = samples.LastOrDefault()?.Active ?? 0,
            MaxLatencySeconds = queries.Count == 0 ? 0 : Math.Round(queries.Max(q => q.EndedAt - q.SentAt), 2),
            Errors = queries.Where(q => q.Failure is not null).GroupBy(q => q.Failure!).OrderByDescending(g => g.Count()).Take(5).Select(g => $"{g.Count()}× {g.Key}").ToList(),
        };
    }
}
