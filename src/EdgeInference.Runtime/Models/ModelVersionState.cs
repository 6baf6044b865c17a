namespace EdgeInference.Runtime.Models;

public enum ModelVersionState
{
    /// <summary>Session created, warming up.</summary>
    Loading,

    /// <summary>Warmed up and serving.</summary>
    Ready,

    /// <summary>Could not be loaded or warmed up; <see cref="ModelVersion.Error"/> says why.</summary>
    Failed,

    /// <summary>Replaced or removed; finishing the requests already in flight.</summary>
    Unloading,
}
