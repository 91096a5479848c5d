namespace MoeMesh.Routing.Gating;

/// <summary>The gate's optimiser: AdaGrad with L2 over per-expert logistic losses plus a component shared by all experts.</summary>
internal static class GateAdaGrad
{
    internal static (float[] Words, double[] Dense) Train(
        GateFeatureVector[] features, sbyte[][] labels, int experts, GateFeaturizer featurizer, GateTrainingOptions options, bool[]? skip)
    {
        var weights = new Weights(experts, featurizer, options);
        weights.StartBiasesAtBaseRates(labels, skip);
        var order = Enumerable.Range(0, features.Length).Where(i => skip?[i] != true).ToArray();
        var random = new Random(options.Seed);
        for (var epoch = 0; epoch < options.Epochs; epoch++)
        {
            random.Shuffle(order);
            foreach (var i in order)
            {
                weights.Step(features[i], labels[i]);
            }
        }

        return weights.Fold();
    }

    /// <summary>
    /// The weights being fitted and their AdaGrad accumulators. Column <c>experts</c> is shared by all
    /// experts: it learns what makes a question hard for everyone, so the per-expert columns only learn
    /// how each expert differs from the rest.
    /// </summary>
    private sealed class Weights
    {
        private const double Epsilon = 1e-8;

        private readonly int _experts;
        private readonly int _stride;
        private readonly int _shared;
        private readonly int _wordDim;
        private readonly int _denseDim;
        private readonly int _embeddingOffset;
        private readonly GateTrainingOptions _options;
        private readonly float[] _words;
        private readonly float[] _wordSquares;
        private readonly double[] _dense;
        private readonly double[] _denseSquares;
        private readonly double[] _logits;
        private readonly double[] _gradients;

        public Weights(int experts, GateFeaturizer featurizer, GateTrainingOptions options)
        {
            _experts = experts;
            _stride = experts + 1;
            _shared = experts;
            _wordDim = featurizer.Words.Dimension;
            _denseDim = featurizer.DenseCount;
            _embeddingOffset = featurizer.EmbeddingDimension > 0 ? featurizer.EmbeddingOffset : int.MaxValue;
            _options = options;
            _words = new float[_wordDim * _stride];
            _wordSquares = new float[_wordDim * _stride];
            _dense = new double[_denseDim * _stride];
            _denseSquares = new double[_denseDim * _stride];
            _logits = new double[_stride];
            _gradients = new double[_stride];
        }

        /// <summary>Starts each expert's bias at its base rate so early epochs learn differences, not averages.</summary>
        public void StartBiasesAtBaseRates(sbyte[][] labels, bool[]? skip)
        {
            for (var e = 0; e < _experts; e++)
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
                _dense[e] = Math.Log(rate / (1 - rate));
            }
        }

        /// <summary>One AdaGrad step on one question; a question no expert has a label for changes nothing.</summary>
        public void Step(GateFeatureVector x, sbyte[] labels)
        {
            if (!ComputeGradients(x, labels))
            {
                return;
            }

            UpdateWords(x);
            UpdateDense(x);
        }

        /// <summary>Folds the shared column into every expert's weights: scoring then needs no extra term.</summary>
        public (float[] Words, double[] Dense) Fold()
        {
            var foldedWords = new float[_wordDim * _experts];
            for (var f = 0; f < _wordDim; f++)
            {
                for (var e = 0; e < _experts; e++)
                {
                    foldedWords[(f * _experts) + e] = _words[(f * _stride) + e] + _words[(f * _stride) + _shared];
                }
            }

            var foldedDense = new double[_denseDim * _experts];
            for (var j = 0; j < _denseDim; j++)
            {
                for (var e = 0; e < _experts; e++)
                {
                    foldedDense[(j * _experts) + e] = _dense[(j * _stride) + e] + _dense[(j * _stride) + _shared];
                }
            }

            return (foldedWords, foldedDense);
        }

        /// <summary>The logistic losses' gradients per column; false when no expert has a label.</summary>
        private bool ComputeGradients(GateFeatureVector x, sbyte[] labels)
        {
            LogisticGate.Logits(x, _words, _dense, _stride, _logits);
            var any = false;
            var sharedGradient = 0.0;
            for (var e = 0; e < _experts; e++)
            {
                var label = labels[e];
                _gradients[e] = label < 0 ? 0 : LogisticGate.Sigmoid(_logits[e] + _logits[_shared]) - label;
                sharedGradient += _gradients[e];
                any |= label >= 0;
            }

            if (!any)
            {
                return false;
            }

            _gradients[_shared] = _options.SharedComponent ? sharedGradient / _experts : 0;
            return true;
        }

        private void UpdateWords(GateFeatureVector x)
        {
            var indices = x.Words.Indices;
            var values = x.Words.Values;
            for (var n = 0; n < indices.Length; n++)
            {
                var offset = indices[n] * _stride;
                var v = values[n];
                for (var e = 0; e < _stride; e++)
                {
                    if (_gradients[e] == 0)
                    {
                        continue;
                    }

                    var w = _words[offset + e];
                    var g = (_gradients[e] * v) + (_options.WordL2 * w);
                    var squares = _wordSquares[offset + e] + (float)(g * g);
                    _wordSquares[offset + e] = squares;
                    _words[offset + e] = (float)(w - (_options.LearningRate * g / Math.Sqrt(squares + Epsilon)));
                }
            }
        }

        private void UpdateDense(GateFeatureVector x)
        {
            for (var j = 0; j < x.Dense.Length; j++)
            {
                var d = x.Dense[j];
                if (d == 0)
                {
                    continue;
                }

                var offset = j * _stride;
                var l2 = j == 0 ? 0 : (j >= _embeddingOffset ? _options.EmbeddingL2 : _options.DenseL2);
                for (var e = 0; e < _stride; e++)
                {
                    if (_gradients[e] == 0)
                    {
                        continue;
                    }

                    var w = _dense[offset + e];
                    var g = (_gradients[e] * d) + (l2 * w);
                    _denseSquares[offset + e] += g * g;
                    _dense[offset + e] = w - (_options.DenseLearningRate * g / Math.Sqrt(_denseSquares[offset + e] + Epsilon));
                }
            }
        }
    }
}
