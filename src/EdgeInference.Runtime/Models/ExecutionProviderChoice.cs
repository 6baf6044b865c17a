namespace EdgeInference.Runtime.Models;

/// <summary>The execution provider a session runs on, and why each more preferred one was passed over.</summary>
public sealed record ExecutionProviderChoice(string Provider, IReadOnlyList<string> Notes);
