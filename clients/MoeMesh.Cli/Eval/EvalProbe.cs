using MoeMesh.Cli.Common;
using MoeMesh.Routing.Data;
using MoeMesh.Evaluation.Runs;
using MoeMesh.Routing.Probing;

namespace MoeMesh.Cli.Eval;

/// <summary><c>moemesh eval --probe</c>: how much routing signal simple estimators find, by cross-validation on the training split.</summary>
internal static class EvalProbe
{
    private static readonly System.Globalization.CultureInfo C = System.Globalization.CultureInfo.InvariantCulture;

    public static void Write(RecordedDataset dataset, IReadOnlyList<string> pool, EvaluationEmbeddings? embeddings, bool json, TextWriter output, IProgress<string> progress)
    {
        var split = DataSplit.Default;
        var train = split.Train(dataset);
        var experts = pool.Where(e => train.Models.Contains(e, StringComparer.Ordinal)).ToArray();

        // Only the training questions' vectors are handed over.
        var vectors = embeddings?.Questions.Where(id => !split.IsHeldOut(id));
        var results = CorrectnessProbes.Run(train, experts, vectors, progress);
        if (json)
        {
            output.WriteLine(CliJson.Serialize(results));
            return;
        }

        output.WriteLine($"Per-expert correctness estimators, {CorrectnessProbes.Folds}-fold cross-validation on the training split ({train.Questions.Count} questions, {experts.Length} experts):");
        var table = new TextTable("estimator", "top-1", "vote of 3", "log loss");
        foreach (var r in results)
        {
            table.Add(r.Estimator, r.TopOne.ToString("0.0000", C), r.VoteOfThree.ToString("0.0000", C), r.LogLoss.ToString("0.0000", C));
        }

        table.WriteTo(output);
    }
}
