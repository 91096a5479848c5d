namespace MoeMesh.Inference.Synthesis;

/// <summary>
/// English text the byte-fallback tokenizer learns its merges from, so common words become single
/// tokens and prompts tokenize to a realistic number of tokens.
/// </summary>
internal static class SynthesisCorpus
{
    public const string Text =
        "The mesh is a group of small computers that work together on one question. " +
        "Each box runs a silo, and each silo holds one or more experts. An expert is a language model " +
        "that is good at something: a math model, a code model, a model that knows about biology or law. " +
        "When a question comes in, the router reads it, finds the skills it needs, and picks the experts " +
        "that should answer. It keeps the answer inside the time and energy the caller is willing to spend. " +
        "If the question is hard, more experts are asked; if they agree, the answer is returned at once. " +
        "The router learns from the answers it has seen, and it explains every choice it makes. " +
        "Tokens stream back to the caller as soon as they are ready, with the time to the first token, " +
        "the number of tokens per second, and the energy used. When a box fails in the middle of a request, " +
        "another box that holds the same expert takes over, and the caller sees only a short pause. " +
        "Small models run on small boxes; large models run where there is memory for them. " +
        "The system measures itself all the time: how long each step takes, how much memory is free, " +
        "how warm each device is, and how much power it draws. With these numbers the router can plan " +
        "a good answer for a question about the weather, a proof in geometry, a function in a program, " +
        "a recipe for bread, the history of a city, or the meaning of a word in another language. " +
        "People use the mesh from a command line, from a web page, and from their own programs. " +
        "They ask, the experts think, and the answer arrives, with a note on who answered and why.";
}
