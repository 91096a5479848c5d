using MoeMesh.Routing.Data;
using MoeMesh.Routing.Skills;
using MoeMesh.Routing.Text;

namespace MoeMesh.Routing.Gating;

/// <summary>Turns the training split into the gate's features and per-expert labels (1 right, 0 wrong, −1 unavailable).</summary>
internal static class GateTrainingData
{
    internal static (GateFeaturizer Featurizer, GateFeatureVector[] Features, sbyte[][] Labels) Prepare(
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
                var outOfFold = train.Subset(questions.Where(q => LogisticGateTrainer.Fold(q.QuestionId, options.CrossFitFolds) != f));
                var foldModel = LexicalSkillExtractor.Fit(outOfFold, options.Skills);
                var aligned = Align(foldModel, skills);
                for (var i = 0; i < questions.Count; i++)
                {
                    if (LogisticGateTrainer.Fold(questions[i].QuestionId, options.CrossFitFolds) == f)
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
}
