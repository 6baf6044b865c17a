namespace EdgeInference.Agent.Updates;

/// <summary>What <see cref="UpdateService"/> does to the installed models when it carries out an <see cref="UpdateTransition"/>.</summary>
[Flags]
public enum UpdateEffects
{
    None = 0,

    /// <summary>Remove the update's installed version (before saving the record: a crash in between removes it again).</summary>
    RemoveVersion = 1,

    /// <summary>Delete what the update staged.</summary>
    DeleteStaged = 2,

    /// <summary>Remove installed versions beyond <see cref="UpdateOptions.KeepVersions"/> (after saving).</summary>
    Prune = 4,

    /// <summary>Start the probation clock.</summary>
    WatchProbation = 8,
}
