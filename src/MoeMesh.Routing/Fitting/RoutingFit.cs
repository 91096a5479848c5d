using MoeMesh.Routing.Gating;
using MoeMesh.Routing.Selection;
using MoeMesh.Routing.Skills;
using MoeMesh.Routing.Symbolic;

namespace MoeMesh.Routing.Fitting;

/// <summary>
/// Everything a router fitted on the training split needs at decision time, for one pool: the MoE²
/// gate, the adaptive-k thresholds, the lexical skill model, the Symbolic-MoE profiles and the
/// aggregator. <c>moemesh eval --save-fit</c> writes it; a silo loads it instead of fitting at start.
/// </summary>
public sealed record RoutingFit
{
    private static readonly byte[] Magic = "MMFIT001"u8.ToArray();

    /// <summary>The first 16 hex digits of the SHA-256 of the data file it was fitted on.</summary>
    public required string DataHash { get; init; }

    /// <summary>The sentence-embedding model the gate reads, or empty when it reads none.</summary>
    public required string EmbeddingModel { get; init; }

    /// <summary>The pool's experts, in the order of the gate's scores.</summary>
    public required IReadOnlyList<string> Pool { get; init; }

    /// <summary>The MoE² gate.</summary>
    public required LogisticGate Gate { get; init; }

    /// <summary>The gate configuration chosen by cross-validation.</summary>
    public required string GateName { get; init; }

    /// <summary>Adaptive-k thresholds.</summary>
    public required AdaptiveK Adaptive { get; init; }

    /// <summary>The lexical skill model Symbolic-MoE extracts keywords with.</summary>
    public required LexicalSkillExtractor Skills { get; init; }

    /// <summary>The experts' keyword profiles.</summary>
    public required ExpertSkillProfiles Profiles { get; init; }

    /// <summary>The aggregator's name.</summary>
    public required string Aggregator { get; init; }

    /// <summary>Fits (or takes, when already fitted) every part from <paramref name="factory"/>.</summary>
    public static RoutingFit From(RouterFactory factory, string dataHash, string? embeddingModel)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentException.ThrowIfNullOrEmpty(dataHash);
        var gate = factory.FitGate();
        return new RoutingFit
        {
            DataHash = dataHash,
            EmbeddingModel = gate.Featurizer.EmbeddingDimension > 0 ? embeddingModel ?? throw new ArgumentException("the gate reads embeddings, so the embedding model must be named", nameof(embeddingModel)) : "",
            Pool = gate.Experts.ToArray(),
            Gate = gate,
            GateName = factory.GateChoice?.Chosen.Name ?? "words+skills",
            Adaptive = factory.FitAdaptive(),
            Skills = factory.FitSkills(),
            Profiles = factory.FitRecruiter().Profiles,
            Aggregator = factory.FitAggregator().Expert,
        };
    }

    /// <summary>Writes the fit to <paramref name="path"/> (a temporary file, then a rename).</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        var temporary = path + ".tmp";
        using (var writer = new BinaryWriter(File.Create(temporary)))
        {
            writer.Write(Magic);
            writer.Write(DataHash);
            writer.Write(EmbeddingModel);
            FitIo.WriteStrings(writer, Pool);
            writer.Write(GateName);
            Gate.Write(writer);
            writer.Write(Adaptive.OneExpertAbove);
            writer.Write(Adaptive.TwoExpertsAbove);
            writer.Write(Adaptive.TrainAccuracy);
            writer.Write(Adaptive.TrainMeanExperts);
            Skills.Write(writer);
            Profiles.Write(writer);
            writer.Write(Aggregator);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads a fit file; throws <see cref="InvalidDataException"/> saying what is wrong with a damaged or foreign file.</summary>
    public static RoutingFit Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var reader = new BinaryReader(File.OpenRead(path));
        try
        {
            if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic))
            {
                throw new InvalidDataException($"{path} is not a MoeMesh routing fit (bad magic)");
            }

            var fit = new RoutingFit
            {
                DataHash = reader.ReadString(),
                EmbeddingModel = reader.ReadString(),
                Pool = FitIo.ReadStrings(reader),
                GateName = reader.ReadString(),
                Gate = LogisticGate.Read(reader),
                Adaptive = new AdaptiveK(reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble()),
                Skills = LexicalSkillExtractor.Read(reader),
                Profiles = ExpertSkillProfiles.Read(reader),
                Aggregator = reader.ReadString(),
            };
            if (!fit.Gate.Experts.SequenceEqual(fit.Pool, StringComparer.Ordinal) || !fit.Profiles.Experts.SequenceEqual(fit.Pool, StringComparer.Ordinal) || !fit.Pool.Contains(fit.Aggregator, StringComparer.Ordinal))
            {
                throw new InvalidDataException($"{path} is inconsistent: the gate, the profiles and the aggregator name different experts");
            }

            if (reader.BaseStream.Position != reader.BaseStream.Length)
            {
                throw new InvalidDataException($"{path} has {reader.BaseStream.Length - reader.BaseStream.Position} unexpected bytes at its end");
            }

            return fit;
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{path} is truncated", e);
        }
    }
}
