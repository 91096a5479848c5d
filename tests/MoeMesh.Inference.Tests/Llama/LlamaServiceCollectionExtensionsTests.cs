using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MoeMesh.Experts;
using MoeMesh.Inference.Engines;
using MoeMesh.Inference.Llama;

namespace MoeMesh.Inference.Tests.Llama;

public sealed class LlamaServiceCollectionExtensionsTests
{
    [Fact]
    public void The_engine_is_registered_once_as_an_expert_engine_provider()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddLlamaCppEngine(options => options.Threads = 1);
        services.AddLlamaCppEngine();
        using var provider = services.BuildServiceProvider();

        var engines = provider.GetServices<IExpertEngineProvider>().ToList();
        var llama = Assert.Single(engines);
        Assert.Equal(ExpertEngines.LlamaCpp, llama.Engine);
        Assert.Same(provider.GetRequiredService<LlamaEngineProvider>(), llama);
        Assert.Equal(1, provider.GetRequiredService<IOptions<LlamaEngineOptions>>().Value.Threads);
    }

    [Fact]
    public void Invalid_options_are_reported_with_their_names()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddLlamaCppEngine(options =>
        {
            options.Threads = 0;
            options.SequencesPerContext = 0;
            options.FallbackChatTemplate = " ";
        });
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<LlamaEngineOptions>>().Value);
        Assert.Contains("Threads", error.Message);
        Assert.Contains("SequencesPerContext", error.Message);
        Assert.Contains("FallbackChatTemplate", error.Message);
    }

    [Fact]
    public void Options_are_bound_from_the_named_section()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["MoeMesh:Llama:Threads"] = "3",
            ["MoeMesh:Llama:SequencesPerContext"] = "0",
        }).Build();
        var services = new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(configuration);
        services.AddLlamaCppEngine("MoeMesh:Llama");
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<LlamaEngineOptions>>().Value);
        Assert.Contains("SequencesPerContext must be between 1", error.Message);
        Assert.DoesNotContain("Threads", error.Message);
    }
}
