using Microsoft.ML.OnnxRuntime;
using MoeMesh.Inference.Moe.Onnx;

namespace MoeMesh.Inference.Tests.Moe.Onnx;

public sealed class OnnxGraphBuilderTests
{
    [Fact]
    public void OnnxRuntimeRunsTheWrittenGraph()
    {
        var g = new OnnxGraphBuilder();
        var x = g.Input("x", OnnxElementType.Float, null, 3);
        var w = g.Weight([1f, 0f, 2f, 0f, 1f, 3f], 3, 2);
        var y = g.Op("Add", g.Op("MatMul", x, w), g.Scalar(0.5f));
        var z = g.Op("Transpose", [y], OnnxGraphBuilder.Attribute.Ints("perm", 1, 0));
        g.Output("y", z, OnnxElementType.Float, 2, null);

        using var session = new InferenceSession(g.ToBytes("test"));
        using var input = OrtValue.CreateTensorValueFromMemory([1f, 2f, 3f, 4f, 5f, 6f], [2, 3]);
        using var results = session.Run(new RunOptions(), ["x"], [input], ["y"]);

        // x·w = [[1·1+2·2+3·1, 1·0+2·0+3·3], [4+10+6, 18]] = [[8, 9], [20, 18]], plus 0.5, transposed.
        Assert.Equal([8.5f, 20.5f, 9.5f, 18.5f], results[0].GetTensorDataAsSpan<float>().ToArray());
    }

    [Fact]
    public void HalfWeightsAreCastBackToFloat()
    {
        var g = new OnnxGraphBuilder();
        var x = g.Input("x", OnnxElementType.Float, 1, 2);
        var w = g.Op("Cast", [g.WeightHalf([0.5f, 0.25f], 2, 1)], OnnxGraphBuilder.Attribute.Int("to", 1));
        g.Output("y", g.Op("MatMul", x, w), OnnxElementType.Float, 1, 1);

        using var session = new InferenceSession(g.ToBytes("half"));
        using var input = OrtValue.CreateTensorValueFromMemory([2f, 4f], [1, 2]);
        using var results = session.Run(new RunOptions(), ["x"], [input], ["y"]);

        Assert.Equal(2f, results[0].GetTensorDataAsSpan<float>()[0]);
    }
}
