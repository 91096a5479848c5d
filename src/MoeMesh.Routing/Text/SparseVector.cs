namespace MoeMesh.Routing.Text;

/// <summary>A sparse feature vector: strictly increasing indices and their values.</summary>
public sealed class SparseVector
{
    /// <summary>Creates a vector; indices must be strictly increasing and values finite.</summary>
    public SparseVector(int[] indices, float[] values)
    {
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(values);
        if (indices.Length != values.Length)
        {
            throw new ArgumentException("indices and values must have the same length");
        }

        for (var i = 0; i < indices.Length; i++)
        {
            if (indices[i] < 0 || (i > 0 && indices[i] <= indices[i - 1]))
            {
                throw new ArgumentException("indices must be non-negative and strictly increasing", nameof(indices));
            }

            if (!float.IsFinite(values[i]))
            {
                throw new ArgumentException($"value at index {indices[i]} is not finite", nameof(values));
            }
        }

        Indices = indices;
        Values = values;
    }

    /// <summary>Feature indices, strictly increasing.</summary>
    public int[] Indices { get; }

    /// <summary>Feature values, aligned with <see cref="Indices"/>.</summary>
    public float[] Values { get; }

    /// <summary>Non-zero entries.</summary>
    public int Count => Indices.Length;
}
