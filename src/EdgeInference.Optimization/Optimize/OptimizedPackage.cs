using EdgeInference.Contracts;
using EdgeInference.Packaging;

namespace EdgeInference.Optimization.Optimize;

/// <summary>
/// What <see cref="ModelOptimizer"/> made: the chosen model, its golden vectors and its drift reference (all three
/// null when no variant passed), and the report.
/// </summary>
public sealed record OptimizedPackage(byte[]? Model, GoldenSet? Golden, DriftProfile? Profile, OptimizationReport Report);
