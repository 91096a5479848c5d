namespace MoeMesh.Grains.Tests.Hosting;

public sealed class SiloLayeringTests
{
    [Fact]
    public void AddMoeMesh_cannot_register_the_replay_engine()
    {
        // AddMoeMesh lives in the grains assembly; without a reference to the evaluation assembly it
        // cannot put the replay engine on a production silo (the silo executable adds it on request).
        var grains = typeof(Microsoft.Extensions.Hosting.MoeMeshSiloBuilderExtensions).Assembly;
        Assert.DoesNotContain(grains.GetReferencedAssemblies(), a => a.Name == "MoeMesh.Evaluation");
        Assert.Contains(grains.GetReferencedAssemblies(), a => a.Name == "MoeMesh.Routing");
    }

    [Fact]
    public void The_engines_assembly_does_not_depend_on_routing()
    {
        var inference = typeof(MoeMesh.Inference.Engines.IExpertEngine).Assembly;
        Assert.DoesNotContain(inference.GetReferencedAssemblies(), a => a.Name == "MoeMesh.Routing");
    }
}
