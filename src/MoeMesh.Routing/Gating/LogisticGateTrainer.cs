using MoeMesh.Routing.Data;
using MoeMesh.Routing.Skills;
using MoeMesh.Routing.Text;

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
        var prepared = Prepare(train, experts, options, progress, embeddings);
        progress?.Report($"gate: training {experts.Count} experts on {train.Questions.Count} questions");
        var (words, dense) = Train(prepared.Features, prepared.Labels, experts.Count, prepared.Featurizer, options, null);
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

        var prepared = Prepare(train, experts, options, progress, embeddings);
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

            var (words, dense) = Train(prepared.Features, prepared.Labels, experts.Count, prepared.Featurizer, options, inFold);
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

    private static int Fold(int questionId, int folds) => (int)((uint)(questionId * 2654435761u) % (uint)folds);

    private static (GateFeaturizer Featurizer, GateFeatureVector[] Features, sbyte[][] Labels) Prepare(
        TrainingSet train, IReadOnlyList<string> experts, GateTrainingOptions options, IProgress<string>? progress, QuestionEmbeddings? embeddings)
    {
        var words = new TextFeaturizer(new TextFeaturizerOptions { HashBits = options.HashBits });
        var questions = train.Questions;
        var texts = questions.Select(q => q.PromptText).ToArray();
        SkillPosterior?[] posteriors = new SkillPosterior?[questions.Count];
        LexicalSkillExtractor? skills = null;
        if (options.SkillFeatures)
        {
            progress?.Report("gate: fitting the skill model");
            skills = LexicalSkillExtractor.Fit(train, options.Skills);

            // Cross-fitting: a training question's skill probabilities come from a model that did not see it.
            for (var f = 0; f < options.CrossFitFolds; f++)
            {
                progress?.Report($"gate: cross-fitting skill probabilities, fold {f + 1} of {options.CrossFitFolds}");
                var outOfFold = train.Subset(questions.Where(q => Fold(q.QuestionId, options.CrossFitFolds) != f));
                var foldModel = LexicalSkillExtractor.Fit(outOfFold, options.Skills);
                var aligned = Align(foldModel, skills);
                for (var i = 0; i < questions.Count; i++)
                {
                    if (Fold(questions[i].QuestionId, options.CrossFitFolds) == f)
                    {
                        posteriors[i] = aligned(foldModel.Posterior(texts[i]));
                    }
                }
            }
        }

        var featurizer = new GateFeaturizer(words, skills, embeddings?.Dimension ?? 0);
        var features = new GateFeatureVector[questions.Count];
        var labels = new sbyte[questions.Count][];
        var slots = experts.Select(train.ModelIndex).ToArray();
        for (var i = 0; i < questions.Count; i++)
        {
            features[i] = featurizer.Featurize(texts[i], posteriors[i], embeddings?.Of(questions[i].QuestionId));
            var row = new sbyte[experts.Count];
            for (var e = 0; e < experts.Count; e++)
            {
                row[e] = questions[i].IsCorrect(slots[e]) switch
                {
                    true => 1,
                    false => 0,
                    null => -1,
                };
            }

            labels[i] = row;
        }

        return (featurizer, features, labels);
    }

    // A fold's skill model may lack a rare label; map its probabilities onto the full model's label order.
    private static Func<SkillPosterior, SkillPosterior> Align(LexicalSkillExtractor fold, LexicalSkillExtractor full)
    {
        var categoryMap = fold.CategoryLabels.Select(l => IndexOf(full.CategoryLabels, l)).ToArray();
        var topicMap = fold.TopicLabels.Select(l => IndexOf(full.TopicLabels, l)).ToArray();
        return posterior =>
        {
            var categories = new double[full.CategoryLabels.Count];
            var topics = new double[full.TopicLabels.Count];
            for (var i = 0; i < categoryMap.Length; i++)
            {
                categories[categoryMap[i]] += posterior.Categories[i];
            }

            for (var i = 0; i < topicMap.Length; i++)
            {
                topics[topicMap[i]] += posterior.Topics[i];
            }

            return new SkillPosterior(categories, topics);
        };
    }

    private static int IndexOf(IReadOnlyList<string> labels, string label)
    {
        for (var i = 0; i < labels.Count; i++)
        {
            if (string.Equals(labels[i], label, StringComparison.Ordinal))
            {
                return i;
            }
        }

        throw new InvalidOperationException($"label '{label}' is missing from the full skill model");
    }

    private static (float[] Words, double[] Dense) Train(
        GateFeatureVector[] features, sbyte[][] labels, int experts, GateFeaturizer featurizer, GateTrainingOptions options, bool[]? skip)
    {
        // Column "experts" is shared by all experts: it learns what makes a question hard for
        // everyone, so the per-expert columns only learn how each expert differs from the rest.
        var stride = experts + 1;
        var shared = experts;
        var wordDim = featurizer.Words.Dimension;
        var denseDim = featurizer.DenseCount;
        var embeddingOffset = featurizer.EmbeddingDimension > 0 ? featurizer.EmbeddingOffset : int.MaxValue;
        var words = new float[wordDim * stride];
        var wordSquares = new float[wordDim * stride];
        var dense = new double[denseDim * stride];
        var denseSquares = new double[denseDim * stride];

        // Start each expert's bias at its base rate so early epochs learn differences, not averages.
        for (var e = 0; e < experts; e++)
        {
            var right = 0;
            var seen = 0;
            for (var i = 0; i < labels.Length; i++)
            {
                if (skip?[i] == true || labels[i][e] < 0)
                {
                    continue;
                }

                seen++;
                right += labels[i][e];
            }

            var rate = Math.Clamp((right + 1.0) / (seen + 2.0), 1e-3, 1 - 1e-3);
            dense[e] = Math.Log(rate / (1 - rate));
        }

        var order = Enumerable.Range(0, features.Length).Where(i => skip?[i] != true).ToArray();
        var random = new Random(options.Seed);
        var logits = new double[stride];
        var gradients = new double[stride];
        const double Epsilon = 1e-8;
        for (var epoch = 0; epoch < options.Epochs; epoch++)
        {
            random.Shuffle(order);
            foreach (var i in order)
            {
                var x = features[i];
                LogisticGate.Logits(x, words, dense, stride, logits);
                var any = false;
                var sharedGradient = 0.0;
                for (var e = 0; e < experts; e++)
                {
                    var label = labels[i][e];
                    gradients[e] = label < 0 ? 0 : LogisticGate.Sigmoid(logits[e] + logits[shared]) - label;
                    sharedGradient += gradients[e];
                    any |= label >= 0;
                }

                if (!any)
                {
                    continue;
                }

                gradients[shared] = options.SharedComponent ? sharedGradient / experts : 0;
                var indices = x.Words.Indices;
                var values = x.Words.Values;
                for (var n = 0; n < indices.Length; n++)
                {
                    var offset = indices[n] * stride;
                    var v = values[n];
                    for (var e = 0; e < stride; e++)
                    {
                        if (gradients[e] == 0)
                        {
                            continue;
                        }

                        var w = words[offset + e];
                        var g = (gradients[e] * v) + (options.WordL2 * w);
                        var squares = wordSquares[offset + e] + (float)(g * g);
                        wordSquares[offset + e] = squares;
                        words[offset + e] = (float)(w - (options.LearningRate * g / Math.Sqrt(squares + Epsilon)));
                    }
                }

                for (var j = 0; j < x.Dense.Length; j++)
                {
                    var d = x.Dense[j];
                    if (d == 0)
                    {
                        continue;
                    }

                    var offset = j * stride;
                    for (var e = 0; e < stride; e++)
                    {
                        if (gradients[e] == 0)
                        {
                            continue;
                        }

                        var w = dense[offset + e];
                        var g = (gradients[e] * d) + (j == 0 ? 0 : (j >= embeddingOffset ? options.EmbeddingL2 : options.DenseL2) * w);
                        denseSquares[offset + e] += g * g;
                        dense[offset + e] = w - (options.DenseLearningRate * g / Math.Sqrt(denseSquares[offset + e] + Epsilon));
                    }
                }
            }
        }

        // Fold the shared column into every expert's weights: scoring then needs no extra term.
        var foldedWords = new float[wordDim * experts];
        for (var f = 0; f < wordDim; f++)
        {
            for (var e = 0; e < experts; e++)
            {
                foldedWords[(f * experts) + e] = words[(f * stride) + e] + words[(f * stride) + shared];
            }
        }

        var foldedDense = new double[denseDim * experts];
        for (var j = 0; j < denseDim; j++)
        {
            for (var e = 0; e < experts; e++)
            {
                foldedDense[(j * experts) + e] = dense[(j * stride) + e] + dense[(j * stride) + shared];
            }
        }

        return (foldedWords, foldedDense);
    }
}
