using MoeMesh.Routing.Data;
using MoeMesh.Routing.Text;

namespace MoeMesh.Routing.Gating;

/// <summary>Fits <see cref="LogisticGate"/>s on the training split (AdaGrad, L2, deterministic shuffling).</summary>
public static class LogisticGateTrainer
{
    /// <summary>
    /// Fits a gate scoring <paramref name="experts"/> from the training questions; with
    /// <paramref name="embeddings"/> (of the training questions) the gate also reads each question's
    /// sentence embedding, and then needs one with every query.
    /// </summary>
    public static LogisticGate Fit(TrainingSet train, IReadOnlyList<string> experts, GateTrainingOptions? options = null, IProgress<string>? progress = null, QuestionEmbeddings? embeddings = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(experts);
        options ??= new GateTrainingOptions();
        EnsureValid(options, experts, train);
        var prepared = GateTrainingData.Prepare(train, experts, options, progress, embeddings);
        progress?.Report($"gate: training {experts.Count} experts on {train.Questions.Count} questions");
        var (words, dense) = GateAdaGrad.Train(prepared.Features, prepared.Labels, experts.Count, prepared.Featurizer, options, null);
        return new LogisticGate(prepared.Featurizer, experts.ToArray(), words, dense);
    }

    /// <summary>
    /// Estimates how well a gate with these options generalises, by k-fold cross-validation inside
    /// the training split (the only place options may be tuned).
    /// </summary>
    public static GateValidation CrossValidate(TrainingSet train, IReadOnlyList<string> experts, GateTrainingOptions? options = null, int folds = 5, IProgress<string>? progress = null, QuestionEmbeddings? embeddings = null)
        => CrossValidate(train, experts, options, folds, progress, embeddings, null);

    /// <summary>
    /// As <see cref="CrossValidate(TrainingSet, IReadOnlyList{string}, GateTrainingOptions?, int, IProgress{string}?, QuestionEmbeddings?)"/>,
    /// also writing each training question's held-out probabilities into <paramref name="heldOut"/>
    /// (one row per training question, in order), for choosing thresholds on the training split.
    /// </summary>
    public static GateValidation CrossValidate(
        TrainingSet train, IReadOnlyList<string> experts, GateTrainingOptions? options, int folds, IProgress<string>? progress, QuestionEmbeddings? embeddings, double[][]? heldOut)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(experts);
        options ??= new GateTrainingOptions();
        EnsureValid(options, experts, train);
        if (folds is < 2 or > 20)
        {
            throw new ArgumentOutOfRangeException(nameof(folds), folds, "folds must be between 2 and 20");
        }

        var prepared = GateTrainingData.Prepare(train, experts, options, progress, embeddings);
        var n = prepared.Features.Length;
        var right = 0;
        var counted = 0;
        var loss = 0.0;
        var losses = 0;
        var logits = new double[experts.Count];
        for (var f = 0; f < folds; f++)
        {
            progress?.Report($"gate: validation fold {f + 1} of {folds}");
            var inFold = new bool[n];
            for (var i = 0; i < n; i++)
            {
                inFold[i] = Fold(train.Questions[i].QuestionId, folds) == f;
            }

            var (words, dense) = GateAdaGrad.Train(prepared.Features, prepared.Labels, experts.Count, prepared.Featurizer, options, inFold);
            for (var i = 0; i < n; i++)
            {
                if (!inFold[i])
                {
                    continue;
                }

                LogisticGate.Logits(prepared.Features[i], words, dense, experts.Count, logits);
                if (heldOut is not null)
                {
                    heldOut[i] = logits.Select(LogisticGate.Sigmoid).ToArray();
                }

                var best = -1;
                for (var e = 0; e < experts.Count; e++)
                {
                    var label = prepared.Labels[i][e];
                    if (label < 0)
                    {
                        continue;
                    }

                    var p = Math.Clamp(LogisticGate.Sigmoid(logits[e]), 1e-9, 1 - 1e-9);
                    loss -= label == 1 ? Math.Log(p) : Math.Log(1 - p);
                    losses++;
                    if (best < 0 || logits[e] > logits[best])
                    {
                        best = e;
                    }
                }

                if (best >= 0)
                {
                    counted++;
                    right += prepared.Labels[i][best] == 1 ? 1 : 0;
                }
            }
        }

        return new GateValidation(counted == 0 ? 0 : right / (double)counted, losses == 0 ? 0 : loss / losses, folds);
    }

    private static void EnsureValid(GateTrainingOptions options, IReadOnlyList<string> experts, TrainingSet train)
    {
        var problems = new List<string>(options.Validate());
        if (experts.Count == 0)
        {
            problems.Add("the gate needs at least one expert");
        }

        if (train.Questions.Count == 0)
        {
            problems.Add("the training set is empty");
        }

        foreach (var expert in experts)
        {
            if (!train.Models.Contains(expert, StringComparer.Ordinal))
            {
                problems.Add($"expert '{expert}' has no recorded answers in the training set");
            }
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException($"cannot train the gate: {string.Join("; ", problems)}");
        }
    }

    internal static int Fold(int questionId, int folds) => (int)((uint)(questionId * 2654435761u) % (uint)folds);
}
