using System.Runtime.InteropServices;
using LLama.Native;

namespace MoeMesh.Inference.Llama;

/// <summary>
/// The flag llama.cpp's abort callback reads between graph nodes. It lives in native memory so the
/// unmanaged callback can read it without a handle to any managed object.
/// </summary>
internal sealed unsafe class LlamaAbortSignal : IDisposable
{
    private readonly int* _flag = (int*)NativeMemory.AllocZeroed(sizeof(int));
    private bool _installed;

    /// <summary>Asks the running (or next) decode to stop at its next check.</summary>
    public void Raise() => Volatile.Write(ref *_flag, 1);

    /// <summary>True once <see cref="Raise"/> was called, until the next <see cref="Reset"/>.</summary>
    public bool IsRaised => Volatile.Read(ref *_flag) != 0;

    /// <summary>Clears the flag before a decode; a full fence, so it is not reordered after later reads.</summary>
    public void Reset() => Interlocked.Exchange(ref *_flag, 0);

    /// <summary>
    /// Installs the callback on <paramref name="context"/> or removes it. ggml calls it between every
    /// pair of graph nodes and a call into managed code is not free, so it is kept only for the long
    /// steps that read prompts.
    /// </summary>
    public void Watch(SafeLLamaContextHandle context, bool watch)
    {
        if (watch == _installed)
        {
            return;
        }

        if (watch)
        {
            NativeApi.llama_set_abort_callback(context, (nint)(delegate* unmanaged<nint, byte>)&OnAbortCheck, (nint)_flag);
        }
        else
        {
            NativeApi.llama_set_abort_callback(context, 0, 0);
        }

        _installed = watch;
    }

    public void Dispose() => NativeMemory.Free(_flag);

    [UnmanagedCallersOnly]
    private static byte OnAbortCheck(nint flag) => Volatile.Read(ref *(int*)flag) != 0 ? (byte)1 : (byte)0;
}
