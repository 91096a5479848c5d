using Microsoft.Extensions.Options;
using MoeMesh.Queries;

namespace MoeMesh.Grains.Routing;

/// <summary>Checks <see cref="RouterOptions"/> (the <c>MoeMesh:Routing</c> section) when the silo starts; each failure names its key.</summary>
internal sealed class RouterOptionsValidator : IValidateOptions<RouterOptions>
{
    public const string SectionName = "MoeMesh:Routing";

    public ValidateOptionsResult Validate(string? name, RouterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = Problems(options);
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    public static List<string> Problems(RouterOptions o)
    {
        var problems = new List<string>();
        Check(problems, o.MaxFailovers is >= 0 and <= 8, "MaxFailovers must be between 0 and 8.");
        Check(problems, o.DeadSiloWait >= TimeSpan.Zero && o.DeadSiloWait <= TimeSpan.FromMinutes(2), "DeadSiloWait must be between 0 and 2 minutes.");
        Check(problems, o.DefaultK is >= 1 and <= QueryOptions.MaxExpertsLimit, $"DefaultK must be between 1 and {QueryOptions.MaxExpertsLimit}.");
        Check(problems, double.IsFinite(o.ModelLoadGBps) && o.ModelLoadGBps > 0, "ModelLoadGBps must be a positive number.");
        Check(problems, string.IsNullOrWhiteSpace(o.TrainingData) || File.Exists(o.TrainingData) || Directory.Exists(o.TrainingData), "TrainingData must be the recorded-outputs file or its folder.");
        Check(problems, string.IsNullOrWhiteSpace(o.FitFile) || File.Exists(o.FitFile), "FitFile must be a file written by 'moemesh eval --save-fit'.");
        Check(problems, string.IsNullOrWhiteSpace(o.FitFile) || !string.IsNullOrWhiteSpace(o.TrainingData), $"FitFile needs {SectionName}:TrainingData too (for the cost tables).");
        Check(problems, o.Embeddings is "none" or "minilm", "Embeddings must be none or minilm.");
        Check(problems, o.BatchWindow >= TimeSpan.Zero && o.BatchWindow <= TimeSpan.FromSeconds(5), "BatchWindow must be between 0 and 5 seconds.");
        Check(problems, o.HeartbeatInterval == TimeSpan.Zero || (o.HeartbeatInterval >= TimeSpan.FromMilliseconds(100) && o.HeartbeatInterval <= TimeSpan.FromMinutes(1)), "HeartbeatInterval must be 0 (none) or between 100 ms and 1 minute.");
        Check(problems, o.CallerSilenceTimeout == TimeSpan.Zero || (o.CallerSilenceTimeout >= TimeSpan.FromSeconds(1) && o.CallerSilenceTimeout <= TimeSpan.FromHours(1)), "CallerSilenceTimeout must be 0 (never) or between 1 second and 1 hour.");
        return problems;
    }

    private static void Check(List<string> problems, bool ok, string problem)
    {
        if (!ok)
        {
            problems.Add($"{SectionName}:{problem}");
        }
    }
}
