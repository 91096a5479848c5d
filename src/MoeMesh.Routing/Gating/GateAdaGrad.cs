namespace MoeMesh.Routing.Gating;

/// <summary>The gate's optimiser: AdaGrad with L2 over per-expert logistic losses plus a component shared by all experts.</summary>
internal static class GateAdaGrad
{
    internal static (float[] Words, double[] Dense) Train(
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
