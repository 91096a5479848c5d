namespace MoeMesh.Generation;

/// <summary>
/// One answer of the panel an aggregator is asked to weigh, carried beside the prompt so an engine
/// that needs the panel (the replay engine) reads it as data instead of parsing the prompt's wording.
/// </summary>
/// <param name="ExpertId">The expert that answered.</param>
/// <param name="Choice">The option letter its answer names, for multiple-choice questions; null when it names none.</param>
[GenerateSerializer, Immutable]
[Alias("moemesh.panel-answer")]
public sealed record PanelAnswer([property: Id(0)] string ExpertId, [property: Id(1)] string? Choice);
