/// The user a cross-tenant access question is about: an object ID and the IDs of the groups the user is in.
///
/// IDs are Entra object IDs (GUIDs) and compare in one spelling (`ObjectID`), made once here so that matching is a
/// dictionary lookup.
package struct UserIdentity: Hashable, Sendable {
    /// The user's object ID, as given.
    package let id: String
    /// The user's group IDs, as given, in order (the first that matches a target is the one reported).
    package let groupIDs: [String]
    /// False when the groups the settings could name are not known (a guest's in its home tenant): the user may
    /// then be in any named group.
    package let groupsKnown: Bool
    let normalizedID: String
    let normalizedGroupIDs: [String]

    package init(id: String, groupIDs: [String] = [], groupsKnown: Bool = true) {
        self.id = id
        self.groupIDs = groupIDs
        self.groupsKnown = groupsKnown
        normalizedID = ObjectID.key(id)
        normalizedGroupIDs = groupIDs.map { ObjectID.key($0) }
    }
}
