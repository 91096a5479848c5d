using Microsoft.Win32.SafeHandles;

namespace MoeMesh.Inference.Llama.Native;

/// <summary>Owns a <c>llama_model*</c>; freed with <c>llama_model_free</c>.</summary>
internal sealed class SafeLlamaModelHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public SafeLlamaModelHandle()
        : base(ownsHandle: true)
    {
    }

    public SafeLlamaModelHandle(nint model)
        : base(ownsHandle: true)
    {
        SetHandle(model);
    }

    protected override bool ReleaseHandle()
    {
        LlamaNative.llama_model_free(handle);
        return true;
    }
}

/// <summary>
/// Owns a <c>llama_context*</c>; freed with <c>llama_free</c>. Holds a reference on its model so
/// the model is never freed first, even when both are finalised together.
/// </summary>
internal sealed class SafeLlamaContextHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    private readonly SafeLlamaModelHandle? model;

    public SafeLlamaContextHandle()
        : base(ownsHandle: true)
    {
    }

    public SafeLlamaContextHandle(nint context, SafeLlamaModelHandle model)
        : base(ownsHandle: true)
    {
        var added = false;
        model.DangerousAddRef(ref added);
        this.model = model;
        SetHandle(context);
    }

    protected override bool ReleaseHandle()
    {
        LlamaNative.llama_free(handle);
        model?.DangerousRelease();
        return true;
    }
}

/// <summary>Owns a <c>llama_sampler*</c> (a sampler chain); freed with <c>llama_sampler_free</c>.</summary>
internal sealed class SafeLlamaSamplerHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public SafeLlamaSamplerHandle()
        : base(ownsHandle: true)
    {
    }

    public SafeLlamaSamplerHandle(nint sampler)
        : base(ownsHandle: true)
    {
        SetHandle(sampler);
    }

    protected override bool ReleaseHandle()
    {
        LlamaNative.llama_sampler_free(handle);
        return true;
    }
}
