namespace MoeMesh.Inference.Engines;

/// <summary>
/// Composes decorators around an engine, as Microsoft.Extensions.AI's <c>ChatClientBuilder</c> does
/// around a chat client: the first one added is the outermost, so it sees a request first and the
/// result last.
/// </summary>
public sealed class ExpertEngineBuilder
{
    private readonly IExpertEngine _inner;
    private readonly List<Func<IExpertEngine, IExpertEngine>> _factories = [];

    public ExpertEngineBuilder(IExpertEngine inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
    }

    /// <summary>Adds a decorator; <paramref name="factory"/> wraps the engine built from the ones added after it.</summary>
    public ExpertEngineBuilder Use(Func<IExpertEngine, IExpertEngine> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _factories.Add(factory);
        return this;
    }

    /// <summary>The composed engine.</summary>
    public IExpertEngine Build()
    {
        var engine = _inner;
        for (var i = _factories.Count - 1; i >= 0; i--)
        {
            engine = _factories[i](engine) ?? throw new InvalidOperationException($"Decorator factory {i} returned null.");
        }

        return engine;
    }
}

/// <summary>Starts an <see cref="ExpertEngineBuilder"/> from an engine.</summary>
public static class ExpertEngineBuilderExtensions
{
    /// <summary>A builder whose innermost engine is <paramref name="engine"/>.</summary>
    public static ExpertEngineBuilder AsBuilder(this IExpertEngine engine) => new(engine);
}
