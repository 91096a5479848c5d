using MoeMesh.Routing.Data;
using MoeMesh.Routing.Gating;
using MoeMesh.Routing.Text;

namespace MoeMesh.Routing.Probing;

/// <summary>How one per-expert correctness estimator did out of fold on the training split.</summary>
/// <param name="Estimator">What it estimates from, with its settings.</param>
/// <param name="TopOne">How often the expert it ranks first is right.</param>
/// <param name="VoteOfThree">Accuracy of a weighted vote of the three experts it ranks highest (weights from its probabilities).</param>
/// <param name="LogLoss">Mean log loss of its probabilities.</param>
public sealed record ProbeResult(string Estimator, double TopOne, double VoteOfThree, double LogLoss);

/// <summary>
/// Cross-validates simple per-expert correctness estimators inside the training split, to show how
/// much routing signal the question's subject, source and sentence embedding carry: the rate of
/// each expert per recorded category, the rate per recorded source shrunk towards the category,
/// and the correctness of the nearest training questions by embedding shrunk towards the category
/// rate. Reads nothing but the training split; each question's estimate comes from the other folds.
/// </summary>
public static class CorrectnessProbes
{
    /// <summary>Folds of the cross-validation (the gate's fold hash).</summary>
    public const int Folds = 5;

    private static readonly int[] NeighbourCounts = [25, 50, 100, 200];
    private static readonly double[] NeighbourPriors = [10, 30, 100];
    private static readonly double[] SourcePriors = [20, 50, 100];

    /// <summary>Runs every estimator; the neighbour ones only when <paramref name="embeddings"/> covers the training questions.</summary>
    public static IReadOnlyList<ProbeResult> Run(TrainingSet train, IReadOnlyList<string> experts, QuestionEmbeddings? embeddings = null, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(experts);
        if (experts.Count == 0 || train.Questions.Count < Folds * 2)
        {
            throw new ArgumentException($"probing needs at least one expert and {Folds * 2} training questions");
        }

        var data = ProbeData.From(train, experts);
        var results = new List<ProbeResult>();
        progress?.Report("probe: category rates");
        var category = GroupRates(data, q => q.Category, null, 0);
        results.Add(data.Score("rate per recorded category", category));
        foreach (var prior in SourcePriors)
        {
            progress?.Report($"probe: source rates, prior {prior}");
            results.Add(data.Score($"rate per recorded source, shrunk to the category (prior {prior})", GroupRates(data, q => q.Source, category, prior)));
        }

        if (embeddings is not null)
        {
            progress?.Report("probe: nearest training questions by embedding");
            var neighbours = NeighbourLists(data, embeddings, NeighbourCounts.Max());
            foreach (var k in NeighbourCounts)
            {
                foreach (var prior in NeighbourPriors)
                {
                    results.Add(data.Score($"{k} nearest questions by embedding, shrunk to the category (prior {prior})", NeighbourRates(data, neighbours, category, k, prior)));
                }
            }
        }

        return results;
    }

    // Rate of each expert per group, from the other folds; shrunk towards prior estimates, or Laplace-smoothed without them.
    private static double[][] GroupRates(ProbeData data, Func<RecordedQuestion, string> group, double[][]? towards, double strength)
    {
        var n = data.Questions.Count;
        var estimates = new double[n][];
        for (var f = 0; f < Folds; f++)
        {
            var counts = new Dictionary<string, (int[] Right, int[] Seen)>(StringComparer.Ordinal);
            for (var i = 0; i < n; i++)
            {
                if (data.Fold[i] == f)
                {
                    continue;
                }

                var key = group(data.Questions[i]);
                if (!counts.TryGetValue(key, out var c))
                {
                    c = (new int[data.Experts], new int[data.Experts]);
                    counts[key] = c;
                }

                for (var e = 0; e < data.Experts; e++)
                {
                    if (data.Labels[i][e] >= 0)
                    {
                        c.Seen[e]++;
                        c.Right[e] += data.Labels[i][e];
                    }
                }
            }

            for (var i = 0; i < n; i++)
            {
                if (data.Fold[i] != f)
                {
                    continue;
                }

                counts.TryGetValue(group(data.Questions[i]), out var c);
                var row = new double[data.Experts];
                for (var e = 0; e < data.Experts; e++)
                {
                    var right = c.Right?[e] ?? 0;
                    var seen = c.Seen?[e] ?? 0;
                    row[e] = towards is null ? (right + 1.0) / (seen + 2.0) : (right + (strength * towards[i][e])) / (seen + strength);
                }

                estimates[i] = row;
            }
        }

        return estimates;
    }

    // For each question, the most similar questions of the other folds, most similar first.
    private static int[][] NeighbourLists(ProbeData data, QuestionEmbeddings embeddings, int keep)
    {
        var n = data.Questions.Count;
        var vectors = data.Questions.Select(q => embeddings.Of(q.QuestionId)).ToArray();
        var lists = new int[n][];
        Parallel.For(0, n, i =>
        {
            var best = new PriorityQueue<int, float>(keep + 1);
            for (var j = 0; j < n; j++)
            {
                if (data.Fold[j] == data.Fold[i])
                {
                    continue;
                }

                var similarity = QuestionEmbeddings.Dot(vectors[i], vectors[j]);
                if (best.Count < keep)
                {
                    best.Enqueue(j, similarity);
                }
                else if (best.TryPeek(out _, out var worst) && similarity > worst)
                {
                    best.EnqueueDequeue(j, similarity);
                }
            }

            var list = new int[best.Count];
            for (var r = list.Length - 1; r >= 0; r--)
            {
                list[r] = best.Dequeue();
            }

            lists[i] = list;
        });
        return lists;
    }

    private static double[][] NeighbourRates(ProbeData data, int[][] neighbours, double[][] category, int k, double prior)
    {
        var estimates = new double[data.Questions.Count][];
        for (var i = 0; i < estimates.Length; i++)
        {
            var right = new double[data.Experts];
            var seen = new double[data.Experts];
            foreach (var j in neighbours[i].AsSpan(0, Math.Min(k, neighbours[i].Length)))
            {
                for (var e = 0; e < data.Experts; e++)
                {
                    if (data.Labels[j][e] >= 0)
                    {
                        seen[e]++;
                        right[e] += data.Labels[j][e];
                    }
                }
            }

            var row = new double[data.Experts];
            for (var e = 0; e < data.Experts; e++)
            {
                row[e] = (right[e] + (prior * category[i][e])) / (seen[e] + prior);
            }

            estimates[i] = row;
        }

        return estimates;
    }

    private sealed class ProbeData
    {
        public required IReadOnlyList<RecordedQuestion> Questions { get; init; }

        public required int Experts { get; init; }

        public required int[] Slots { get; init; }

        public required sbyte[][] Labels { get; init; }

        public required int[] Fold { get; init; }

        public static ProbeData From(TrainingSet train, IReadOnlyList<string> experts)
        {
            var slots = experts.Select(train.ModelIndex).ToArray();
            var questions = train.Questions;
            var labels = questions.Select(q => slots.Select(s => q.IsCorrect(s) switch { true => (sbyte)1, false => (sbyte)0, null => (sbyte)-1 }).ToArray()).ToArray();
            var fold = questions.Select(q => (int)((uint)(q.QuestionId * 2654435761u) % Folds)).ToArray();
            return new ProbeData { Questions = questions, Experts = experts.Count, Slots = slots, Labels = labels, Fold = fold };
        }

        public ProbeResult Score(string name, double[][] estimates)
        {
            var topRight = 0;
            var voteRight = 0;
            var counted = 0;
            var loss = 0.0;
            var losses = 0;
            var ballots = new Ballot[3];
            for (var i = 0; i < Questions.Count; i++)
            {
                var order = Enumerable.Range(0, Experts).Where(e => Labels[i][e] >= 0).OrderByDescending(e => estimates[i][e]).ThenBy(e => e).ToArray();
                if (order.Length == 0)
                {
                    continue;
                }

                counted++;
                topRight += Labels[i][order[0]];
                var voters = Math.Min(3, order.Length);
                var options = Math.Max(2, Questions[i].Options.Count);
                for (var r = 0; r < voters; r++)
                {
                    ballots[r] = new Ballot(Questions[i].PredictionOf(Slots[order[r]]), WeightedVote.WeightFromProbability(estimates[i][order[r]], options));
                }

                var outcome = WeightedVote.Combine(ballots.AsSpan(0, voters));
                voteRight += string.Equals(outcome.Answer, Questions[i].Answer, StringComparison.Ordinal) ? 1 : 0;
                foreach (var e in order)
                {
                    var p = Math.Clamp(estimates[i][e], 1e-9, 1 - 1e-9);
                    loss -= Labels[i][e] == 1 ? Math.Log(p) : Math.Log(1 - p);
                    losses++;
                }
            }

            return new ProbeResult(name, counted == 0 ? 0 : topRight / (double)counted, counted == 0 ? 0 : voteRight / (double)counted, losses == 0 ? 0 : loss / losses);
        }
    }
}
