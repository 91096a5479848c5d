using MoeMesh.Routing.Skills;

namespace MoeMesh.Routing.Gating;

/// <summary>Settings for <see cref="LogisticGateTrainer"/>.</summary>
public sealed record GateTrainingOptions
{
    /// <summary>Word features are hashed into 2^HashBits buckets.</summary>
    public int HashBits { get; init; } = 18;

    /// <summary>Passes over the training questions.</summary>
    public int Epochs { get; init; } = 3;

    /// <summary>AdaGrad step size of word weights (small: words are many and noisy).</summary>
    public double LearningRate { get; init; } = 0.02;

    /// <summary>AdaGrad step size of dense weights.</summary>
    public double DenseLearningRate { get; init; } = 0.05;

    /// <summary>Learns a component shared by all experts (question difficulty) next to each expert's own.</summary>
    public bool SharedComponent { get; init; } = true;

    /// <summary>L2 penalty on word weights (hashed words are many and sparse, so they need the stronger pull to zero).</summary>
    public double WordL2 { get; init; } = 1e-4;

    /// <summary>L2 penalty on dense weights (bias, subject and topic probabilities, shape).</summary>
    public double DenseL2 { get; init; } = 1e-6;

    /// <summary>L2 penalty on the sentence-embedding weights (384 correlated features per expert overfit without it).</summary>
    public double EmbeddingL2 { get; init; } = 1e-3;

    /// <summary>Uses the lexical skill model's subject and topic probabilities as features.</summary>
    public bool SkillFeatures { get; init; } = true;

    /// <summary>
    /// Folds for cross-fitting the skill probabilities of training questions: each question's
    /// probabilities come from a skill model that did not see it, so the gate learns how much to
    /// trust them on unseen questions.
    /// </summary>
    public int CrossFitFolds { get; init; } = 5;

    /// <summary>Seed of the shuffling between epochs.</summary>
    public int Seed { get; init; } = 7;

    /// <summary>Settings of the skill model used for features.</summary>
    public LexicalSkillOptions Skills { get; init; } = new();

    /// <summary>Problems with the options; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>(Skills.Validate());
        if (HashBits is < 8 or > 22)
        {
            problems.Add($"HashBits must be between 8 and 22, got {HashBits}");
        }

        if (Epochs is < 1 or > 100)
        {
            problems.Add($"Epochs must be between 1 and 100, got {Epochs}");
        }

        if (!double.IsFinite(LearningRate) || LearningRate <= 0 || !double.IsFinite(DenseLearningRate) || DenseLearningRate <= 0)
        {
            problems.Add($"learning rates must be positive, got {LearningRate} and {DenseLearningRate}");
        }

        if (!double.IsFinite(WordL2) || WordL2 < 0 || !double.IsFinite(DenseL2) || DenseL2 < 0 || !double.IsFinite(EmbeddingL2) || EmbeddingL2 < 0)
        {
            problems.Add($"L2 penalties must be zero or more, got {WordL2} and {DenseL2}");
        }

        if (CrossFitFolds is < 2 or > 20)
        {
            problems.Add($"CrossFitFolds must be between 2 and 20, got {CrossFitFolds}");
        }

        return problems;
    }
}

/// <summary>Held-out quality of a gate, measured by cross-validation inside the training split.</summary>
/// <param name="TopOneAccuracy">How often the expert the gate ranks first is right.</param>
/// <param name="LogLoss">Mean log loss of the per-expert probabilities.</param>
/// <param name="Folds">Number of folds.</param>
public sealed record GateValidation(double TopOneAccuracy, double LogLoss, int Folds);
