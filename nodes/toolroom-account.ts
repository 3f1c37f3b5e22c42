import { resetPassword, setPassword, setPin } from '../core/accounts/service';
import { createUser, disableUser, enableUser, getUser, listUsers, updateUser } from '../core/users/service';
import { recordNode } from './lib/record-node';

/**
 * toolroom-account: user accounts, for admins — list, get, create, update (name, role, editor
 * access), a password set or reset to a temporary one (answered once), the shop-floor PIN, disable
 * and enable. Who may is core's permission table (`user.manage`).
 */
export = recordNode({
  type: 'toolroom-account',
  icon: 'font-awesome/fa-users',
  operations: {
    list: listUsers,
    get: getUser,
    create: createUser,
    update: updateUser,
    setpassword: setPassword,
    resetpassword: resetPassword,
    setpin: setPin,
    disable: disableUser,
    enable: enableUser,
  },
});
