using MoeMesh.Routing.Data;
using MoeMesh.Routing.Text;

namespace MoeMesh.Routing.Gating;

/// <summary>One gate configuration tried by <see cref="GateSelector"/> and how it validated.</summary>
/// <param name="Name">Short name of the configuration.</param>
/// <param name="UsesEmbeddings">True when the gate reads the question's sentence embedding.</param>
/// <param name="Options">The training settings.</param>
/// <param name="Validation">Held-out quality by cross-validation inside the training split.</param>
public sealed record GateCandidate(string Name, bool UsesEmbeddings, GateTrainingOptions Options, GateValidation Validation);

/// <summary>The gate configuration chosen on the training split, with every one tried.</summary>
/// <param name="Chosen">The winner (highest held-out top-1 accuracy, then lowest log loss).</param>
/// <param name="Candidates">Every configuration tried.</param>
/// <param name="HeldOut">The winner's held-out probabilities for each training question (row order of the training set).</param>
public sealed record GateSelection(GateCandidate Chosen, IReadOnlyList<GateCandidate> Candidates, double[][] HeldOut);

/// <summary>
/// Chooses the MoE² gate by k-fold cross-validation inside the training split: hashed words and
/// lexical skills alone, the same plus the MiniLM sentence embedding (at two strengths of L2 on its
/// weights), and the embedding with skills and only a coarse word hash. Nothing of the test split is read.
/// </summary>
public static class GateSelector
{
    /// <summary>Folds of the selection's cross-validation.</summary>
    public const int Folds = 3;

    /// <summary>Tries the configurations and returns the best; embeddings are needed for the embedding gates (else only words and skills are tried).</summary>
    public static GateSelection Select(
        TrainingSet train, IReadOnlyList<string> experts, GateTrainingOptions baseOptions, QuestionEmbeddings? embeddings, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(experts);
        ArgumentNullException.ThrowIfNull(baseOptions);
        var configurations = new List<(string Name, GateTrainingOptions Options, bool Embeddings)> { ("words+skills", baseOptions, false) };
        if (embeddings is not null)
        {
            configurations.Add(("words+skills+embedding", baseOptions, true));
            configurations.Add(("words+skills+embedding, strong L2", baseOptions with { EmbeddingL2 = baseOptions.EmbeddingL2 * 10 }, true));
            configurations.Add(("skills+embedding", baseOptions with { HashBits = Math.Min(baseOptions.HashBits, 10), WordL2 = baseOptions.WordL2 * 10 }, true));
        }

        var tried = new List<GateCandidate>();
        double[][]? bestHeldOut = null;
        GateCandidate? best = null;
        foreach (var (name, options, useEmbeddings) in configurations)
        {
            progress?.Report($"gate: cross-validating {name} ({Folds} folds on the training split)");
            var heldOut = new double[train.Questions.Count][];
            var validation = LogisticGateTrainer.CrossValidate(train, experts, options, Folds, null, useEmbeddings ? embeddings : null, heldOut);
            var candidate = new GateCandidate(name, useEmbeddings, options, validation);
            tried.Add(candidate);
            if (best is null
                || validation.TopOneAccuracy > best.Validation.TopOneAccuracy + 1e-9
                || (Math.Abs(validation.TopOneAccuracy - best.Validation.TopOneAccuracy) <= 1e-9 && validation.LogLoss < best.Validation.LogLoss))
            {
                best = candidate;
                bestHeldOut = heldOut;
            }
        }

        return new GateSelection(best!, tried, bestHeldOut!);
    }
}
